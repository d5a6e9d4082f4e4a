"""Stage 2: language identification and the text units the encoder reads."""
from samestory.text.lang import CORE_LANGUAGES, detect, tag_language
from samestory.text.units import TextUnits, UnitSettings, opening, passages, sentences, text_units, weight

__all__ = ["CORE_LANGUAGES", "TextUnits", "UnitSettings", "detect", "opening", "passages", "sentences",
           "tag_language", "text_units", "weight"]
