"""On the Wenzhou demo data, every question kind is answered from what the services return."""

from __future__ import annotations

from datetime import timedelta

from factories import make_visitor_token

from server.card.demo import load_demo_card_data
from server.clock import local_now
from server.food.demo import load_demo_food
from server.tours.demo import load_demo_tours
from server.venues.demo import load_demo_catalogue

from .test_conversations import Chat


async def _demo() -> None:
    await load_demo_catalogue(today=local_now().date(), days=3, progress=lambda code: None)
    await load_demo_food(progress=lambda code: None)
    await load_demo_tours(progress=lambda code: None)
    await load_demo_card_data()


async def test_food_routes_cards_and_recommendations_come_from_the_services(server) -> None:
    await _demo()
    _, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-demo-answers", token)

    dish = await chat.say("温州鱼丸去哪吃")
    assert dish["intent"] == "food" and dish["slots"]["dish"] == "温州鱼丸"
    assert dish["slots"]["restaurants"], dish
    nearby = await chat.say("五马街附近有什么好吃的")
    assert nearby["intent"] == "food" and "米" in nearby["reply"]
    route = await chat.say("how do I get to Jiangxin Islet")
    assert route["intent"] == "route_guide" and "Jiangxin Islet" in route["reply"]
    assert route["slots"]["venue"] == "Jiangxin Islet"
    card = await chat.say("社保卡能当门票吗")
    assert card["intent"] == "card_service" and "还没有绑定" in card["reply"]
    assert card["slots"]["benefits"] > 0
    picks = await chat.say("推荐几个景点")
    assert picks["intent"] == "recommend" and picks["slots"]["items"]
    hours = await chat.say("雁荡山明天几点开门")
    tomorrow = local_now().date() + timedelta(days=1)
    assert hours["slots"]["date"] == tomorrow.isoformat() and "07:00-21:00" in hours["reply"]
    walk_in = await chat.say("预约五马街")
    assert walk_in["intent"] == "book" and "无需预约" in walk_in["reply"]
