"""The process-wide inbox cache stays bounded in lists and in the numbers and users they hold."""

from __future__ import annotations

from tools.api import INBOX_CACHE_KEYS, INBOX_CACHE_RECORDS, _InboxCache
from tools.resources import PhoneNumber

NUMBER = PhoneNumber.model_validate(
    {"id": "PNsoak", "number": "+14155550100", "users": [{"id": "USone"}, {"id": "UStwo"}]}
)
RECORDS_PER_NUMBER = 3  # the number and its two users


def test_past_the_key_cap_the_least_recently_stored_list_goes() -> None:
    cache = _InboxCache()
    for serial in range(INBOX_CACHE_KEYS + 1):
        cache.put(f"key-{serial}", [NUMBER])
    assert cache.get("key-0") is None
    assert cache.get("key-1") == [NUMBER]
    assert cache.get(f"key-{INBOX_CACHE_KEYS}") == [NUMBER]
    assert len(cache) == INBOX_CACHE_KEYS * RECORDS_PER_NUMBER


def test_past_the_record_cap_the_oldest_lists_go_until_it_fits() -> None:
    """Few keys with large workspaces are bounded too: numbers and users are counted."""
    per_list = INBOX_CACHE_RECORDS // RECORDS_PER_NUMBER // 4
    cache = _InboxCache()
    for serial in range(5):
        cache.put(f"key-{serial}", [NUMBER] * per_list)
    assert cache.get("key-0") is None
    assert [len(cache.get(f"key-{serial}") or []) for serial in range(1, 5)] == [per_list] * 4
    assert len(cache) == 4 * per_list * RECORDS_PER_NUMBER <= INBOX_CACHE_RECORDS


def test_a_list_larger_than_the_whole_cache_is_not_kept_and_evicts_nothing() -> None:
    cache = _InboxCache()
    cache.put("small", [NUMBER])
    cache.put("huge", [NUMBER] * (INBOX_CACHE_RECORDS // RECORDS_PER_NUMBER + 1))
    assert cache.get("huge") is None
    assert cache.get("small") == [NUMBER]
    assert len(cache) == RECORDS_PER_NUMBER


def test_storing_a_key_again_replaces_its_list_and_its_count() -> None:
    cache = _InboxCache()
    cache.put("key", [NUMBER] * 10)
    cache.put("key", [NUMBER])
    assert cache.get("key") == [NUMBER]
    assert len(cache) == RECORDS_PER_NUMBER
