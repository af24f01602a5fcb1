"""Deterministic role-play replies of a chosen length: paragraphs, *actions* and dialogue, like a character's
long answer."""

from __future__ import annotations

import random

_ACTIONS = [
    "*leans back in the creaking chair and taps the table twice*",
    "*pulls a dusty map from the drawer and unrolls it carefully*",
    "*laughs softly, then lowers her voice*",
    "*glances at the door, as if someone might be listening*",
    "*pours two cups of tea and slides one across the table*",
    "*turns the old brass key over in her fingers*",
]
_SENTENCES = [
    "The storm had been building over the harbour since dawn, and by noon the gulls had all gone quiet.",
    "Nobody in the village remembered who had first lit the lantern on the hill, only that it never went out.",
    "You ask a fair question, and it deserves a longer answer than most people have patience for.",
    "There is a library under the old mill, and its shelves go down further than anyone has ever counted.",
    "I once spent three winters copying a single book, and I still find mistakes in it every spring.",
    "The ferryman charges one silver coin to cross, two to come back, and nothing at all to stay.",
    "Maps lie, of course, but they lie in useful ways, which is more than can be said for most people.",
    "If you listen closely at night you can hear the river arguing with the stones about which way to go.",
    "My grandmother kept a list of every traveller who stopped at our door, and yours would not be the first.",
    "Some doors open only from the inside, and the trick is to find out which side you are standing on.",
    "The clock in the square runs eleven minutes late, and the whole town has quietly agreed to follow it.",
    "Bread, salt and a good story: that is what we offer strangers here, and you have already had the bread.",
    "When the tide goes out you can walk to the island, but you must be back before the bell rings twice.",
    "I will tell you the rest, but first you must promise not to repeat it to the harbourmaster.",
]
_LINES = [
    '"Are you sure you want to hear all of it?"',
    '"Well then, sit down, this will take a while."',
    '"That is not the end of the story, not even close."',
    '"Promise me you will remember this part."',
]


def reply_text(length: int, seed: int) -> str:
    """At most ``length`` characters (cut at a word boundary, so a few fewer); the same seed and length
    always give the same text."""
    rng = random.Random(seed)
    parts = [rng.choice(_ACTIONS), "Ah, traveller.", *_paragraph(rng)]
    text = " ".join(parts)
    while len(text) < length:
        text += "\n\n" + " ".join(_paragraph(rng))
    cut = text.rfind(" ", 0, length)
    return text[: cut if cut > length // 2 else length - 1].rstrip(" .,:;") + "."


def _paragraph(rng: random.Random) -> list[str]:
    sentences = rng.sample(_SENTENCES, k=rng.randint(2, 4))
    if rng.random() < 0.5:
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(_LINES))
    if rng.random() < 0.4:
        sentences.insert(0, rng.choice(_ACTIONS))
    return sentences
