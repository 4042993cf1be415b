"""Reviews: one per visitor per restaurant, editable, moderated, and a rating that never races."""

from __future__ import annotations

import asyncio

import pytest

from food.factories import make_restaurant
from server.accounts.models import Visitor
from server.food import service as food
from server.food.errors import AlreadyReviewed, RestaurantNotFound, ReviewNotFound
from server.food.models import Restaurant, Review, ReviewStatus


async def _visitors(count: int) -> list[Visitor]:
    return [await Visitor.create(openid=f"review-openid-{n}") for n in range(count)]


async def test_a_clean_review_is_published_and_sets_the_rating(database):
    restaurant = await make_restaurant()
    first, second = await _visitors(2)
    review = await food.submit_review(
        visitor_id=first.id, restaurant_id=restaurant.id, rating=5, text="鱼丸很鲜，汤也清爽"
    )
    assert review.status == ReviewStatus.PUBLISHED and review.flagged_terms == []
    await food.submit_review(visitor_id=second.id, restaurant_id=restaurant.id, rating=2, text="")
    fresh = await Restaurant.get(id=restaurant.id)
    assert fresh.rating == pytest.approx(3.5) and fresh.review_count == 2


async def test_one_review_per_visitor_per_restaurant(database):
    restaurant = await make_restaurant()
    (visitor,) = await _visitors(1)
    review = await food.submit_review(
        visitor_id=visitor.id, restaurant_id=restaurant.id, rating=4, text="好吃"
    )
    with pytest.raises(AlreadyReviewed) as refusal:
        await food.submit_review(
            visitor_id=visitor.id, restaurant_id=restaurant.id, rating=1, text="again"
        )
    assert refusal.value.extra() == {"review_id": review.id}
    assert await Review.filter(restaurant_id=restaurant.id).count() == 1


async def test_editing_changes_the_rating_and_needs_an_existing_review(database):
    restaurant = await make_restaurant()
    (visitor,) = await _visitors(1)
    with pytest.raises(ReviewNotFound):
        await food.edit_review(
            visitor_id=visitor.id, restaurant_id=restaurant.id, rating=3, text=""
        )
    await food.submit_review(visitor_id=visitor.id, restaurant_id=restaurant.id, rating=2, text="")
    edited = await food.edit_review(
        visitor_id=visitor.id, restaurant_id=restaurant.id, rating=5, text="第二次来，好多了"
    )
    assert edited.rating == 5 and edited.text == "第二次来，好多了"
    assert (await Restaurant.get(id=restaurant.id)).rating == 5


async def test_a_flagged_review_is_held_and_left_out_of_the_rating_until_published(database):
    restaurant = await make_restaurant()
    honest, spammer = await _visitors(2)
    await food.submit_review(visitor_id=honest.id, restaurant_id=restaurant.id, rating=4, text="")
    held = await food.submit_review(
        visitor_id=spammer.id, restaurant_id=restaurant.id, rating=1, text="好评返现，加 微 信"
    )
    assert held.status == ReviewStatus.PENDING
    assert held.flagged_terms == ["好评返现", "加微信"]
    fresh = await Restaurant.get(id=restaurant.id)
    assert (fresh.rating, fresh.review_count) == (4, 1)
    assert [r.id for r in await food.published_reviews(restaurant_id=restaurant.id)] != [held.id]

    await food.moderate_review(review_id=held.id, publish=True)
    fresh = await Restaurant.get(id=restaurant.id)
    assert (fresh.rating, fresh.review_count) == (2.5, 2)

    # A published review edited to a flagged text is held again, and leaves the rating.
    await food.edit_review(
        visitor_id=honest.id, restaurant_id=restaurant.id, rating=5, text="要发票请找代开发票"
    )
    fresh = await Restaurant.get(id=restaurant.id)
    assert (fresh.rating, fresh.review_count) == (1, 1)


async def test_rejected_reviews_stay_out_of_the_rating(database):
    restaurant = await make_restaurant()
    (visitor,) = await _visitors(1)
    held = await food.submit_review(
        visitor_id=visitor.id, restaurant_id=restaurant.id, rating=1, text="刷单兼职日结"
    )
    rejected = await food.moderate_review(review_id=held.id, publish=False)
    assert rejected.status == ReviewStatus.REJECTED
    fresh = await Restaurant.get(id=restaurant.id)
    assert (fresh.rating, fresh.review_count) == (None, 0)


async def test_hidden_or_missing_restaurants_take_no_reviews(database):
    hidden = await make_restaurant(hidden=True)
    (visitor,) = await _visitors(1)
    for restaurant_id in (hidden.id, 999_999):
        with pytest.raises(RestaurantNotFound):
            await food.submit_review(
                visitor_id=visitor.id, restaurant_id=restaurant_id, rating=5, text=""
            )


async def test_concurrent_reviews_leave_the_exact_average_and_count(database):
    restaurant = await make_restaurant()
    visitors = await _visitors(12)
    ratings = [1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 5, 5]
    await asyncio.gather(
        *(
            food.submit_review(
                visitor_id=visitor.id, restaurant_id=restaurant.id, rating=rating, text=""
            )
            for visitor, rating in zip(visitors, ratings, strict=True)
        )
    )
    # Edits racing with each other: every visitor moves to 3 stars at once.
    await asyncio.gather(
        *(
            food.edit_review(visitor_id=v.id, restaurant_id=restaurant.id, rating=3, text="")
            for v in visitors[:6]
        )
    )
    expected = [3] * 6 + ratings[6:]
    fresh = await Restaurant.get(id=restaurant.id)
    assert fresh.review_count == 12
    assert fresh.rating == pytest.approx(sum(expected) / len(expected))


async def test_the_same_visitor_racing_twice_gets_one_review(database):
    restaurant = await make_restaurant()
    (visitor,) = await _visitors(1)
    outcomes = await asyncio.gather(
        *(
            food.submit_review(
                visitor_id=visitor.id, restaurant_id=restaurant.id, rating=4, text=""
            )
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(o, Review) for o in outcomes) == 1
    assert all(isinstance(o, Review | AlreadyReviewed) for o in outcomes)
    assert (await Restaurant.get(id=restaurant.id)).review_count == 1
