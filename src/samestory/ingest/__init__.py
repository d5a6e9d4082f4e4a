"""Stage 1: records in, clean articles out (reading, HTML extraction, repair, debris removal)."""
from samestory.ingest.clean import CleanSettings, clean_record, strip_debris
from samestory.ingest.read import MAX_BYTES, read_record, record_from_bytes

__all__ = ["CleanSettings", "MAX_BYTES", "clean_record", "read_record", "record_from_bytes", "strip_debris"]
