"""Stage 2: language identification and the text units the encoder reads."""
from samestory.text.lang import CORE_LANGUAGES, detect, ranked, same_language, tag_language, with_prior
from samestory.text.units import TextUnits, UnitSettings, opening, passages, sentences, text_units, weight

__all__ = ["CORE_LANGUAGES", "TextUnits", "UnitSettings", "detect", "opening", "passages", "ranked",
           "same_language", "sentences", "tag_language", "text_units", "weight", "with_prior"]
