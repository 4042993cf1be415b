"""Guided tours (导游导览): ordered stops with narration, and each visitor's progress on one."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.fields import LocalTimeField


class Tour(Model):
    """A guided route of a venue (`venue` set) or across the city (`venue` empty).

    Text fields hold {"zh-CN": ..., "en": ...}. `night` marks a 全域夜游 tour, best walked after
    dark; `starts_at` is the suggested time to set out, if there is one.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    venue = fields.ForeignKeyField(
        "etour.Venue", related_name="tours", null=True, on_delete=fields.SET_NULL
    )
    name = fields.JSONField()
    summary = fields.JSONField(default=dict)
    night = fields.BooleanField(default=False, db_index=True)
    starts_at = LocalTimeField(null=True)
    cover_photo = fields.CharField(max_length=255, default="")
    hidden = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tour"


class TourStop(Model):
    """One stop of a tour, in `position` order: a venue, or a point inside one, with its own spot.

    `audio_url` holds a recording per language ({"zh-CN": url, "en": url}); `minutes` is the
    suggested time spent at the stop.
    """

    id = fields.IntField(primary_key=True)
    tour = fields.ForeignKeyField("etour.Tour", related_name="stops")
    position = fields.SmallIntField()
    venue = fields.ForeignKeyField(
        "etour.Venue", related_name="tour_stops", null=True, on_delete=fields.SET_NULL
    )
    name = fields.JSONField()
    narration = fields.JSONField(default=dict)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    audio_url = fields.JSONField(default=dict)
    panorama_url = fields.CharField(max_length=255, default="")
    minutes = fields.SmallIntField(default=10)

    class Meta:
        table = "tour_stop"
        unique_together = (("tour", "position"),)


class TourProgress(Model):
    """A stop a visitor has marked as visited on a tour: one row per visitor and stop."""

    id = fields.IntField(primary_key=True)
    visitor = fields.ForeignKeyField("etour.Visitor", related_name="tour_progress")
    tour = fields.ForeignKeyField("etour.Tour", related_name="progress")
    stop = fields.ForeignKeyField("etour.TourStop", related_name="visits")
    visited_at = fields.DatetimeField()

    class Meta:
        table = "tour_progress"
        unique_together = (("visitor", "stop"),)
        indexes = (("visitor_id", "tour_id"),)
