"""The hub's OAuth 2 authorization server and resource-side token validation (FAPI 2.0-aligned).

One module per specification: ``rfc8414`` metadata, ``rfc7523`` client authentication by
``private_key_jwt``, ``rfc9068`` JWT access tokens, ``rfc7662`` introspection, ``rfc7009``
revocation, ``rfc7638`` thumbprints, ``rfc9449`` DPoP, ``rfc8707`` resource indicators; ``jws``
is the strict JWS layer under them all, ``server`` composes them, ``endpoints`` adapts the
protocol cores (``(status, body, headers)``) to Starlette, ``resource`` guards ``/graphql``.
"""
