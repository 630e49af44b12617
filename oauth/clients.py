"""Which client a `client_id` names: one registered here (RFC 7591), or a metadata-document URL.

draft-ietf-oauth-client-id-metadata-document §3: an https `client_id` is the URL of a JSON document
describing the client; it is fetched (with the SSRF guards of `oauth.client_metadata`) instead of
being registered. Such a client has no secret.
"""

from __future__ import annotations

from oauth.client_metadata import ClientMetadataError, ClientMetadataFetcher, is_metadata_url
from oauth.errors import InvalidClient, InvalidRedirectURI
from oauth.registration import RegisteredClient, Registrar, check_redirect_uri


class ClientDirectory:
    """Resolves a `client_id` to a `RegisteredClient`, or raises InvalidClient."""

    def __init__(self, registrar: Registrar, fetcher: ClientMetadataFetcher) -> None:
        self.registrar = registrar
        self._fetcher = fetcher

    async def find(self, client_id: str) -> RegisteredClient:
        if not client_id:
            raise InvalidClient("client_id is missing")
        if not is_metadata_url(client_id):
            return self.registrar.lookup(client_id)
        try:
            document = await self._fetcher.fetch(client_id)
        except ClientMetadataError as exc:
            raise InvalidClient(f"client metadata document refused: {exc}") from None
        try:
            for uri in document.redirect_uris:
                check_redirect_uri(uri)
        except InvalidRedirectURI as exc:
            raise InvalidClient(f"client metadata document: {exc.description}") from None
        return RegisteredClient(
            client_id=client_id,
            redirect_uris=tuple(document.redirect_uris),
            token_endpoint_auth_method="none",
            client_name=document.client_name,
        )

    async def aclose(self) -> None:
        await self._fetcher.aclose()
