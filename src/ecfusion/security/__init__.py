"""Security and privacy at landing (T/JNBDA 0003-2025 clause 7.4; ARCHITECTURE principle 3).

Personal fields are encrypted before they touch disk, with one data key per data subject so an
erasure request destroys keys instead of rewriting the lake; keyed blind indexes allow exact
matching without decryption. Modules:

* ``keystore`` — ``KeyStore`` (the seam a KMS implements) and ``LocalKeyStore`` (SQLite, wrapped keys);
* ``fields`` — ``FieldCipher``: encrypt / decrypt / blind_index / content_hash / protect;
* ``tokens`` — the ``ef1:`` token format (docs/dev/contracts.md §3);
* ``normalize`` — per-kind normalization before blind-indexing;
* ``pii`` + ``pii_fields.toml`` — declared personal fields per platform (``PiiPolicy``);
* ``detectors`` — phone / ID number / e-mail / bank card found by value;
* ``protect`` — ``protect`` / ``ProtectBatch`` / ``findings`` over whole payloads;
* ``erasure`` — ``erase_subject`` / ``erase_person`` (crypto-shredding);
* ``masks`` — ``masked``: a personal value as a message may show it (``138****5678``).
"""
