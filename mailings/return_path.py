"""The envelope sender of each message (VERP): `RELAIS_MAIL_RETURN_PATH` with a signed tag naming
its delivery, `bounces+TAG@domain`, so that a report mailed back later says which delivery it is
about, and nobody who has not seen the message can forge one for someone else's address."""

import hashlib
import hmac
import re

SIGNATURE_HEX = 12  # 48 bits of HMAC-SHA256: a forger would have to guess it per delivery


class ReturnPath:
    """Tags and reads back `local+<delivery id>-<signature>@domain` for one configured address."""

    def __init__(self, address: str, secret: str):
        self.local, _, self.domain = address.strip().rpartition("@")
        self.key = hashlib.sha256(b"relais-return-path:" + secret.encode("utf-8")).digest()
        self.pattern = re.compile(
            rf"{re.escape(self.local)}\+(\d{{1,12}})-([0-9a-f]{{{SIGNATURE_HEX}}})@{re.escape(self.domain)}",
            re.IGNORECASE,
        )

    @classmethod
    def configured(cls, config) -> "ReturnPath | None":
        """From `RELAIS_MAIL_RETURN_PATH` (a plain address; None when unset or without a domain)."""
        address = (config.get("MAIL_RETURN_PATH") or "").strip()
        if "@" not in address or not address.rpartition("@")[0]:
            return None
        return cls(address, str(config["SECRET_KEY"]))

    def signature(self, delivery_id: int) -> str:
        return hmac.new(self.key, str(delivery_id).encode("ascii"), hashlib.sha256).hexdigest()[:SIGNATURE_HEX]

    def tag(self, delivery_id: int) -> str:
        return f"{delivery_id}-{self.signature(delivery_id)}"

    def address(self, delivery_id: int) -> str:
        return f"{self.local}+{self.tag(delivery_id)}@{self.domain}"

    def deliveries_in(self, text: str) -> list[int]:
        """The delivery ids of every correctly signed tagged address in `text` (forged ones are left out)."""
        found = []
        for match in self.pattern.finditer(text):
            delivery_id = int(match.group(1))
            if hmac.compare_digest(match.group(2).lower(), self.signature(delivery_id)) and delivery_id not in found:
                found.append(delivery_id)
        return found
