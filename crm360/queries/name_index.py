"""The name search's index: which customers' names hold which words, in memory.

A name search must answer in a few milliseconds while the agent is still typing. Reading the
sorted word mart from DuckDB costs a whole 122,880-row group per typed word (about 1 ms per
string column each), so every process keeps, per database version, the postings of the
`customer_name_tokens` mart as numpy arrays: for 1,000,000 customers about 2 million postings,
some 40 MB, loaded in well under a second on the first name search. DuckDB stays the source: the
index holds ids and word numbers, never names; what a result shows is read from customer_summary.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from crm360.store import Snapshot

NEVER = np.iinfo(np.int64).min + 1  # last contact of a customer never contacted; its negation still fits


@dataclass(frozen=True)
class TypedWord:
    """A word as typed (matched as the start of a name word) and whole words one typo away."""

    text: str
    near_misses: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameIndex:
    words: list[str]                 # the vocabulary, sorted; a word's number is its position
    word_customers: np.ndarray       # postings: customer positions, grouped by word number
    word_starts: np.ndarray          # word w's postings are word_customers[word_starts[w]:word_starts[w + 1]]
    customer_ids: np.ndarray         # sorted; a customer's position indexes the arrays below
    last_contact_us: np.ndarray      # microseconds since 1970, NEVER when never contacted
    name_words: np.ndarray           # (customers, widest name) word numbers, -1 padded

    def word_range(self, prefix: str) -> tuple[int, int]:
        """Numbers of the words starting with `prefix`: a contiguous range, the words being sorted."""
        return bisect_left(self.words, prefix), bisect_left(self.words, prefix + "\U0010ffff")

    def word_number(self, word: str) -> int | None:
        at = bisect_left(self.words, word)
        return at if at < len(self.words) and self.words[at] == word else None

    def postings(self, typed: TypedWord) -> int:
        """How many (customer, word) pairs the typed word matches: its cost as the driving word."""
        low, high = self.word_range(typed.text)
        total = int(self.word_starts[high] - self.word_starts[low])
        for miss in self._miss_numbers(typed):
            total += int(self.word_starts[miss + 1] - self.word_starts[miss])
        return total

    def _miss_numbers(self, typed: TypedWord) -> list[int]:
        return [n for n in map(self.word_number, typed.near_misses) if n is not None]

    def find(self, typed_words: list[TypedWord], limit: int) -> tuple[list[int], int]:
        """Customer ids whose names hold every typed word, whole-name matches first, then the most
        recently contacted, at most `limit`; and how many match in all."""
        if not typed_words:
            return [], 0
        ordered = sorted(typed_words, key=self.postings)
        candidates = self._customers_of(ordered[0])
        for typed in ordered[1:]:
            if candidates.size == 0:
                break
            candidates = candidates[self._names_hold(candidates, typed)]
        if candidates.size == 0:
            return [], 0
        whole = self._whole_name(candidates, typed_words)
        ranking = np.lexsort((self.customer_ids[candidates], -self.last_contact_us[candidates], ~whole))
        return self.customer_ids[candidates[ranking[:limit]]].tolist(), int(candidates.size)

    def _customers_of(self, typed: TypedWord) -> np.ndarray:
        low, high = self.word_range(typed.text)
        spans = [(self.word_starts[low], self.word_starts[high])]
        spans += [(self.word_starts[n], self.word_starts[n + 1]) for n in self._miss_numbers(typed)]
        return np.unique(np.concatenate([self.word_customers[a:b] for a, b in spans]))

    def _names_hold(self, candidates: np.ndarray, typed: TypedWord) -> np.ndarray:
        words = self.name_words[candidates]
        low, high = self.word_range(typed.text)
        hit = (words >= low) & (words < high)
        misses = self._miss_numbers(typed)
        if misses:
            hit |= np.isin(words, misses)
        return hit.any(axis=1)

    def _whole_name(self, candidates: np.ndarray, typed_words: list[TypedWord]) -> np.ndarray:
        """The name is exactly the typed words, in any order ("yilmaz ayse" for Ayşe Yılmaz)."""
        numbers = {self.word_number(t.text) for t in typed_words}
        if None in numbers:
            return np.zeros(candidates.size, dtype=bool)
        words = self.name_words[candidates]
        holds_all = np.all([(words == n).any(axis=1) for n in numbers], axis=0)
        return holds_all & ((words >= 0).sum(axis=1) == len(numbers))


def build(snap: Snapshot) -> NameIndex:
    """Load the index from the marts of the snapshot's version."""
    words = [row[0] for row in snap.cursor.execute(
        "SELECT token FROM customer_name_words ORDER BY token").fetchall()]
    customers = snap.cursor.execute(
        """SELECT customer_id, coalesce(epoch_us(last_contact_at), ?) AS last_contact_us
           FROM customer_summary ORDER BY customer_id""", [int(NEVER)]).fetchnumpy()
    postings = snap.cursor.execute(
        """SELECT w.word_number, t.customer_id
           FROM customer_name_tokens t
           JOIN (SELECT token, row_number() OVER (ORDER BY token) - 1 AS word_number FROM customer_name_words) w
             USING (token)
           ORDER BY w.word_number, t.customer_id""").fetchnumpy()
    customer_ids = np.asarray(customers["customer_id"], dtype=np.int64)
    word_numbers = np.asarray(postings["word_number"], dtype=np.int32)
    positions = np.searchsorted(customer_ids, np.asarray(postings["customer_id"], dtype=np.int64)).astype(np.int32)
    word_starts = np.searchsorted(word_numbers, np.arange(len(words) + 1), side="left").astype(np.int64)
    return NameIndex(words, positions, word_starts, customer_ids,
                     np.asarray(customers["last_contact_us"], dtype=np.int64),
                     _name_words(positions, word_numbers, customer_ids.size))


def _name_words(positions: np.ndarray, word_numbers: np.ndarray, customers: int) -> np.ndarray:
    """Each customer's word numbers as one row of a matrix, -1 where the name has fewer words."""
    order = np.lexsort((word_numbers, positions))
    positions, word_numbers = positions[order], word_numbers[order]
    counts = np.bincount(positions, minlength=customers)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(positions.size) - starts[positions]
    matrix = np.full((customers, max(int(counts.max(initial=0)), 1)), -1, dtype=np.int32)
    matrix[positions, slot] = word_numbers
    return matrix
