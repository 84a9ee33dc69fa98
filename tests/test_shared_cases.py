"""Where each of the shared failure cases is tested.

The cases are inputs that broke systems like this one: a file named
`reports/Q3 results (final)+v2: é.pdf`, an event delivered twice, a bus that
refuses an entry without raising, a batch whose second message fails, an
upload that breaks its declaration, a 7 MB body, every kind of S3 event, 250
files in pages of 100, bad tokens, another user's file, path tricks in names,
an upload event arriving after the delete, a queue that hides messages too
briefly, a URL asked to live a week, and listings among hidden records.

Each case maps to the tests that hold it (the fault's whole kind, not just the
one input). This test fails if one of them is renamed or removed, so the
mapping cannot go stale quietly.
"""

from __future__ import annotations

import importlib

import pytest

CASES: dict[int, list[str]] = {
    1: [
        "tests.app.test_event_handlers::"
        "test_an_uploaded_file_with_an_awkward_name_is_listed_under_exactly_that_name",
        "tests.app.test_file_routes::"
        "test_an_available_file_comes_with_a_download_url_that_serves_its_bytes",
    ],
    2: [
        "tests.app.test_event_handlers::"
        "test_the_same_upload_event_twice_makes_one_file_and_one_event_per_version",
    ],
    3: [
        "tests.adapters.test_eventbridge_bus::"
        "test_a_put_whose_entries_failed_raises_and_names_the_failed_message",
        "tests.app.test_file_routes::"
        "test_a_command_the_bus_refuses_without_raising_is_a_503_and_nothing_changes",
        "tests.app.test_file_routes::"
        "test_when_the_bus_is_unavailable_a_delete_is_a_503_and_nothing_changes",
    ],
    4: [
        "tests.unit.test_batches::"
        "test_when_the_second_of_three_fails_the_others_are_acknowledged_once",
        "tests.app.test_event_handlers::"
        "test_a_batch_whose_second_message_fails_deletes_the_others_and_raises",
        "tests.devstack.test_runner::test_a_poison_message_alone_ends_in_the_dlq",
    ],
    5: [
        "tests.app.test_event_handlers::"
        "test_an_upload_that_differs_from_its_declaration_is_rejected_and_removed",
        "tests.unit.test_uploads::"
        "test_an_upload_that_breaks_its_promises_is_rejected_and_removed",
    ],
    6: [
        "tests.app.test_create_route::test_a_7_mb_body_is_a_json_413_and_stores_nothing"
    ],
    7: [
        "tests.unit.test_uploads::"
        "test_an_upload_that_keeps_its_promises_makes_the_file_available",
        "tests.unit.test_uploads::test_an_event_that_is_not_an_object_creation_is_ignored",
        "tests.app.test_event_handlers::"
        "test_an_object_removal_event_is_ignored_without_error",
        # S3 sends its test event to queues, never to a function: the local
        # runner, which reads S3's notifications from a queue, skips it.
        "tests.devstack.test_runner::test_s3_handler_filters_and_skips_the_test_event",
    ],
    8: [
        "tests.adapters.test_dynamodb_index::"
        "test_250_files_in_pages_of_100_come_as_100_100_and_50_each_file_once",
        "tests.app.test_list_route::test_an_altered_cursor_is_a_400",
        "tests.app.test_list_route::test_another_users_cursor_is_a_400",
    ],
    9: [
        "tests.app.test_auth::test_a_bad_or_missing_token_is_a_json_401",
        "tests.e2e.test_isolation::"
        "test_a_token_that_is_no_valid_id_token_of_our_app_is_a_json_401_everywhere",
    ],
    10: [
        "tests.e2e.test_isolation::"
        "test_a_users_file_reads_to_another_user_exactly_as_an_unknown_id",
        "tests.e2e.test_isolation::"
        "test_another_user_cannot_delete_a_users_file_and_learns_nothing_trying",
    ],
    11: [
        "tests.app.test_create_route::"
        "test_a_broken_name_is_a_400_saying_which_rule_and_stores_nothing",
        "tests.app.test_create_route::test_a_dotted_name_that_is_no_path_trick_is_fine",
    ],
    12: [
        "tests.app.test_event_handlers::"
        "test_an_upload_after_its_file_was_deleted_does_not_bring_the_file_back",
        "tests.unit.test_uploads::"
        "test_a_late_upload_of_a_deleted_file_is_removed_and_does_not_bring_it_back",
    ],
    13: [
        "tests.devstack.test_consumer_timeouts::"
        "test_each_consumer_queue_hides_messages_six_times_its_timeout",
        "tests.infra.test_template::test_a_visibility_timeout_can_never_be_below_the_factor",
    ],
    14: [
        "tests.unit.test_settings_and_contract::"
        "test_no_stage_can_make_urls_live_longer_than_the_ceiling",
        "tests.app.test_file_routes::"
        "test_no_query_parameter_makes_a_download_url_live_longer",
    ],
    15: [
        "tests.adapters.test_dynamodb_index::"
        "test_hidden_records_between_available_ones_neither_shorten_nor_pad_a_page",
    ],
}


def test_every_shared_case_has_its_tests() -> None:
    assert sorted(CASES) == list(range(1, 16))
    assert all(CASES.values())


@pytest.mark.parametrize(
    "reference",
    [ref for refs in CASES.values() for ref in refs],
)
def test_each_named_test_exists(reference: str) -> None:
    module_name, function_name = reference.split("::")
    module = importlib.import_module(module_name)

    assert callable(getattr(module, function_name, None)), reference
