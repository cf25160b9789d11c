from config.celery import _attach_request_id
from config.celery import app as celery_app
from marketplace.observability import bind_log_context, clear_log_context


def test_tasks_are_json_only_acked_late_and_time_limited():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_a_task_queued_during_a_request_carries_its_request_id():
    headers: dict = {}
    bind_log_context(rid="req-123")
    try:
        _attach_request_id(headers=headers)
    finally:
        clear_log_context()
    assert headers["request_id"] == "req-123"
