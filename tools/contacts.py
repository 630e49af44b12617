"""Contact tools: create, list, get, update, delete, and the workspace's custom-field definitions.

Contacts made through the API are "integration contacts": read-only in the OpenPhone app, and shown
there only when a conversation with one of their numbers exists (openphone-api-notes.md §2.10).
Custom-field definitions are made in the app; `list-contact-custom-fields` gives their keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import Field, model_validator

from tools.arguments import Arguments, NoArguments, OpaqueId, PageOf50
from tools.budget import Trimmable, page_fit
from tools.contact_undo import UNDO_NOTE, receipt
from tools.phone import PhoneNumber
from tools.registry import READ_ONLY, Tool, ToolAnnotations, ToolContext
from tools.resources import Contact, CustomFieldDefinition, Wire
from tools.scopes import CONTACTS_READ, CONTACTS_WRITE
from tools.undo import restore_body, restore_changed
from tools.untrusted import DESCRIPTION_NOTE, ThirdPartyContent, marked
from tools.views import CONTACT_VIEW

_EMAIL: Final = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# Which fields live inside `defaultFields` in OpenPhone's contact body (openapi-v1.json createContact_v1).
_DEFAULT_FIELDS: Final = ("lastName", "company", "role", "emails", "phoneNumbers")
_TOP_LEVEL_FIELDS: Final = ("customFields", "externalId", "source")

Name = Annotated[str, Field(min_length=1, max_length=200)]


class EmailEntry(Arguments):
    name: Name = Field(default="work", description="A label such as work or home.")
    value: Annotated[str, Field(max_length=254, pattern=_EMAIL)]


class PhoneEntry(Arguments):
    name: Name = Field(default="mobile", description="A label such as mobile or office.")
    value: PhoneNumber


class CustomFieldEntry(Arguments):
    key: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The field's key, from list-contact-custom-fields."
    )
    value: str | float | bool | list[str] | None = Field(
        description="Text, number, true/false, an ISO date, or a list of options (multi-select)."
    )


class ContactFields(Arguments):
    """The editable fields, shared by create-contact and update-contact."""

    last_name: Name | None = None
    company: Name | None = None
    role: Name | None = None
    emails: list[EmailEntry] | None = Field(default=None, max_length=20)
    phone_numbers: list[PhoneEntry] | None = Field(default=None, max_length=20)
    custom_fields: list[CustomFieldEntry] | None = Field(default=None, max_length=50)
    external_id: Annotated[str, Field(min_length=1, max_length=75)] | None = Field(
        default=None, description="Your own id for this contact, to find it with list-contacts."
    )
    source: Annotated[str, Field(min_length=1, max_length=72)] | None = Field(
        default=None, description='Where the contact came from; OpenPhone defaults to "public-api".'
    )

    def to_body(self, first_name: str | None) -> dict[str, Any]:
        """The request body of create (POST) or update (PATCH) /v1/contacts: only the fields given."""
        given = self.model_dump(by_alias=True, exclude_none=True)
        default_fields: dict[str, Any] = {key: given[key] for key in _DEFAULT_FIELDS if key in given}
        if first_name is not None:
            default_fields["firstName"] = first_name
        body: dict[str, Any] = {key: given[key] for key in _TOP_LEVEL_FIELDS if key in given}
        if default_fields:
            body["defaultFields"] = default_fields
        return body


class CreateContactArgs(ContactFields):
    first_name: Name


class UndoFields(Wire):
    """What a contact write returns besides the contact (None when this gateway offers no undo)."""

    undo_token: str | None = None
    undo_expires_at: str | None = None
    audit_id: str | None = None


class ContactChange(Contact, UndoFields):
    """The contact after a write, with its undo."""


async def create_contact(args: CreateContactArgs, context: ToolContext) -> ContactChange:
    created = await context.openphone.create_contact(args.to_body(args.first_name))
    return ContactChange(**dict(created), **receipt(context, "created", created.id, None, created.updated_at))


CREATE_CONTACT = Tool(
    name="create-contact",
    title="Create a contact",
    description=(
        "Create an OpenPhone contact: firstName is required; lastName, company, role, emails, "
        "phoneNumbers (E.164), customFields (keys from list-contact-custom-fields), externalId and "
        "source are optional. Creating twice makes two contacts; look first with list-contacts." + UNDO_NOTE
    ),
    input_model=CreateContactArgs,
    output_model=ContactChange,
    handler=create_contact,
    annotations=ToolAnnotations(read_only=False, destructive=False, idempotent=False, open_world=False),
    scope=CONTACTS_WRITE,
    view=CONTACT_VIEW,
)


class UpdateContactArgs(ContactFields):
    id: OpaqueId = Field(description="The contact's id.")
    first_name: Name | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateContactArgs:
        if not self.to_body(self.first_name):
            raise ValueError("give at least one field to change")
        return self


async def update_contact(args: UpdateContactArgs, context: ToolContext) -> ContactChange:
    body = args.to_body(args.first_name)
    # Read first only when there will be an undo: what the undo puts back.
    before = await context.openphone.get_contact(args.id) if context.undo is not None else None
    after = await context.openphone.update_contact(args.id, body)
    if before is None:
        return ContactChange(**dict(after))
    added = {item.key for item in after.custom_fields if item.key} - {
        item.key for item in before.custom_fields if item.key
    }
    restore = restore_changed(before, body, clear_custom=sorted(added))
    return ContactChange(**dict(after), **receipt(context, "updated", after.id, restore, after.updated_at))


UPDATE_CONTACT = Tool(
    name="update-contact",
    title="Update a contact",
    description=(
        "Change fields of a contact made through the API (by id). Only the fields given change; a list "
        "given (emails, phoneNumbers, customFields) replaces that list." + UNDO_NOTE
    ),
    input_model=UpdateContactArgs,
    output_model=ContactChange,
    handler=update_contact,
    annotations=ToolAnnotations(read_only=False, destructive=True, idempotent=True, open_world=False),
    scope=CONTACTS_WRITE,
    view=CONTACT_VIEW,
)


class ContactIdArgs(Arguments):
    id: OpaqueId = Field(description="The contact's id.")


class ReadContact(Contact):
    third_party_content: ThirdPartyContent = marked("defaultFields", "customFields")


async def get_contact(args: ContactIdArgs, context: ToolContext) -> ReadContact:
    return ReadContact.model_validate((await context.openphone.get_contact(args.id)).model_dump())


GET_CONTACT = Tool(
    name="get-contact",
    title="Get a contact",
    description=(
        "Get one contact by id: names, company, role, emails, phone numbers and custom fields."
        + DESCRIPTION_NOTE
    ),
    input_model=ContactIdArgs,
    output_model=ReadContact,
    handler=get_contact,
    annotations=READ_ONLY,
    scope=CONTACTS_READ,
    view=CONTACT_VIEW,
)


class DeletedContact(UndoFields):
    id: str
    deleted: bool


async def delete_contact(args: ContactIdArgs, context: ToolContext) -> DeletedContact:
    before = await context.openphone.get_contact(args.id) if context.undo is not None else None
    await context.openphone.delete_contact(args.id)
    if before is None:
        return DeletedContact(id=args.id, deleted=True)
    restore = restore_body(before, for_create=True)
    return DeletedContact(id=args.id, deleted=True, **receipt(context, "deleted", args.id, restore, None))


DELETE_CONTACT = Tool(
    name="delete-contact",
    title="Delete a contact",
    description=(
        "Delete a contact by id. Returns an undoToken: undo-contact-change creates it again (under a "
        "new id) within 5 minutes (texts cannot be unsent)."
    ),
    input_model=ContactIdArgs,
    output_model=DeletedContact,
    handler=delete_contact,
    annotations=ToolAnnotations(read_only=False, destructive=True, idempotent=True, open_world=False),
    scope=CONTACTS_WRITE,
)


class ListContactsArgs(PageOf50):
    external_ids: list[Annotated[str, Field(min_length=1, max_length=75)]] | None = Field(
        default=None, min_length=1, max_length=50, description="Only contacts with these externalIds."
    )


class ContactPage(Trimmable):
    third_party_content: ThirdPartyContent = marked("contacts[].defaultFields", "contacts[].customFields")
    contacts: list[Contact]
    next_page_token: str | None


async def list_contacts(args: ListContactsArgs, context: ToolContext) -> ContactPage:
    page = await context.openphone.list_contacts(
        max_results=args.max_results, external_ids=list(args.external_ids or ()), page_token=args.page_token
    )
    return ContactPage(contacts=page.data, next_page_token=page.next_page_token)


LIST_CONTACTS = Tool(
    name="list-contacts",
    title="List contacts",
    description=(
        "List the workspace's contacts made through the API, a page at a time, optionally only those "
        "with the given externalIds." + DESCRIPTION_NOTE
    ),
    input_model=ListContactsArgs,
    output_model=ContactPage,
    handler=list_contacts,
    annotations=READ_ONLY,
    scope=CONTACTS_READ,
    fit=page_fit("contacts"),
)


class CustomFieldList(Wire):
    custom_fields: list[CustomFieldDefinition]


async def list_custom_fields(args: NoArguments, context: ToolContext) -> CustomFieldList:
    return CustomFieldList(custom_fields=await context.openphone.list_custom_fields())


LIST_CONTACT_CUSTOM_FIELDS = Tool(
    name="list-contact-custom-fields",
    title="List contact custom fields",
    description="List the workspace's custom contact fields: name, key (to use in customFields) and type.",
    input_model=NoArguments,
    output_model=CustomFieldList,
    handler=list_custom_fields,
    annotations=READ_ONLY,
    scope=CONTACTS_READ,
)
