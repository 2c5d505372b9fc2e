-- Migration 8: events by time with their type and object, for missed webhooks and the webhook
-- health view: a covering index, so that comparing every event Stripe sent with the
-- platform's webhook table never reads an event's JSON.

ALTER TABLE stripe_objects ADD COLUMN event_type TEXT
    GENERATED ALWAYS AS (CASE WHEN object_type = 'event' THEN json_extract(raw, '$.type') END) VIRTUAL;
CREATE INDEX stripe_events_by_time ON stripe_objects (created, id, event_type, event_object)
    WHERE object_type = 'event';
