"""The HTTP side shared by the blueprints: form pieces, access checks, error texts, paging and CSV
responses, the offline-sale form. Never imported by a domain package.
"""
