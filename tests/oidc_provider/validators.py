"""ProConnect's claims and its userinfo answered as a signed JWT."""

import json

from jwcrypto import jwt
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

# The second client gets its userinfo as plain JSON, like most providers.
JSON_USERINFO_CLIENT_SUFFIX = "-json"


class ProConnectLikeValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "email": "email",
        "given_name": "given_name",
        "usual_name": "usual_name",
        "uid": "uid",
    }

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "given_name": user.first_name,
            "usual_name": user.last_name,
            "uid": str(user.pk),
        }

    def get_userinfo_claims(self, request):
        claims = super().get_userinfo_claims(request)
        if request.client.client_id.endswith(JSON_USERINFO_CLIENT_SUFFIX):
            return claims
        key = request.client.jwk_key
        token = jwt.JWT(
            header=json.dumps({"alg": "RS256", "kid": key.thumbprint()}),
            claims=json.dumps(
                {
                    **claims,
                    "iss": oauth2_settings.oidc_issuer(request),
                    "aud": request.client.client_id,
                }
            ),
        )
        token.make_signed_token(key)
        return token.serialize()
