"""Repair issues: each kind is spelled here once, with how it is raised and cleared."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

PAYMENT_REQUIRED = "payment_required"


@dataclass(frozen=True, slots=True)
class AccountIssue:
    """An issue about an entry as a whole (one at most per entry)."""

    translation_key: str
    severity: ir.IssueSeverity = ir.IssueSeverity.ERROR

    def issue_id(self, entry_id: str) -> str:
        """`<key>_<entry id>`."""
        return f"{self.translation_key}_{entry_id}"

    def create(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Raise the issue for the entry (again: it is updated, not repeated)."""
        ir.async_create_issue(
            hass,
            DOMAIN,
            self.issue_id(entry.entry_id),
            is_fixable=False,
            severity=self.severity,
            translation_key=self.translation_key,
            translation_placeholders={"entry": entry.title},
        )

    def delete(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """The entry is past this problem."""
        ir.async_delete_issue(hass, DOMAIN, self.issue_id(entry.entry_id))


PAYMENT_ISSUE = AccountIssue(PAYMENT_REQUIRED)
# Webhooks need a URL the service can reach; polling goes on without one.
NO_WEBHOOK_URL_ISSUE = AccountIssue("no_webhook_url", severity=ir.IssueSeverity.WARNING)


def create_payment_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The account needs attention (HTTP 402) before the service answers again."""
    PAYMENT_ISSUE.create(hass, entry)


def delete_payment_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The service answered again: the account is in order."""
    PAYMENT_ISSUE.delete(hass, entry)


@dataclass(frozen=True, slots=True)
class ItemIssue:
    """An issue about one followed item of an entry (a device, a participant)."""

    translation_key: str
    item_placeholder: str  # the placeholder that names the item
    fixable: bool = False
    severity: ir.IssueSeverity = ir.IssueSeverity.ERROR

    def issue_id(self, entry_id: str, item: str) -> str:
        """`<key>_<entry id>_<item>`."""
        return f"{self.translation_key}_{entry_id}_{item}"

    def sync(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        items: Iterable[str],
        bad: set[str],
    ) -> None:
        """Raise the issue for the bad items, clear it for the others."""
        for item in items:
            issue_id = self.issue_id(entry.entry_id, item)
            if item not in bad:
                ir.async_delete_issue(hass, DOMAIN, issue_id)
                continue
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=self.fixable,
                severity=self.severity,
                translation_key=self.translation_key,
                translation_placeholders={
                    self.item_placeholder: item,
                    "entry": entry.title,
                },
                data={"entry_id": entry.entry_id, "item": item},
            )

    def delete_except(self, hass: HomeAssistant, entry_id: str, keep: set[str]) -> None:
        """Delete the entry's issues of this kind about items not in `keep`."""
        prefix = self.issue_id(entry_id, "")
        for domain, issue_id in list(ir.async_get(hass).issues):
            item = issue_id.removeprefix(prefix)
            if domain == DOMAIN and item != issue_id and item not in keep:
                ir.async_delete_issue(hass, DOMAIN, issue_id)


def issue_data(data: Mapping[str, str | int | float | None] | None) -> tuple[str, str]:
    """The entry id and item an item issue's fix flow is about."""
    assert data is not None
    return str(data["entry_id"]), str(data["item"])
