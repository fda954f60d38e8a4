//! [`SentenceSplitter`]: cuts streamed reply text into sentences so speech can start on the
//! first one while the model is still writing the rest; the reply's first piece may be a
//! clause, so speech starts sooner still.

/// A reply's first piece may end at a clause break (`,` `;` `:` or a dash, then whitespace)
/// once it has at least this many words: "Sure, I can book that for you," is spoken while the
/// model writes the rest, but "Sure," alone is too short to stand as a phrase. Later pieces are
/// whole sentences, so the speech is not choppy.
const FIRST_CLAUSE_MIN_WORDS: usize = 4;

/// Buffers text fragments and yields complete sentences: text up to `.`, `!` or `?` followed
/// by whitespace, or up to a line break; the first piece may be a clause (see
/// [`FIRST_CLAUSE_MIN_WORDS`]). Decimals, thousands and times (`$49.99`, `1,200`, `2:30`) are
/// not cut because no whitespace follows their `.`/`,`/`:`.
#[derive(Debug, Default)]
pub(crate) struct SentenceSplitter {
    buf: String,
    /// A piece has been yielded: from now on only sentence ends cut.
    started: bool,
}

impl SentenceSplitter {
    /// Adds `fragment`; returns the sentences it completed, trimmed, in order.
    pub(crate) fn push(&mut self, fragment: &str) -> Vec<String> {
        self.buf.push_str(fragment);
        let mut out = Vec::new();
        loop {
            let cut = self
                .buf
                .char_indices()
                .zip(self.buf.chars().skip(1))
                .find_map(|((i, c), next)| {
                    let ends = matches!(c, '.' | '!' | '?') && next.is_whitespace();
                    let clause = !self.started
                        && matches!(c, ',' | ';' | ':' | '—' | '–')
                        && next.is_whitespace()
                        && self.buf[..i].split_whitespace().count() >= FIRST_CLAUSE_MIN_WORDS;
                    (ends || clause || c == '\n').then_some(i + c.len_utf8())
                });
            let Some(cut) = cut else { break };
            let sentence = self.buf[..cut].trim().to_owned();
            self.buf.drain(..cut);
            if !sentence.is_empty() {
                self.started = true;
                out.push(sentence);
            }
        }
        out
    }

    /// The rest of the text (an unfinished last sentence), trimmed; `None` when empty. The
    /// splitter is then ready for the next reply.
    pub(crate) fn finish(&mut self) -> Option<String> {
        self.started = false;
        let rest = std::mem::take(&mut self.buf).trim().to_owned();
        (!rest.is_empty()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_come_out_as_soon_as_complete() {
        let mut s = SentenceSplitter::default();
        assert!(s.push("Sure").is_empty());
        assert_eq!(s.push(". It costs $49."), vec!["Sure."]);
        // "$49." is not cut: no whitespace follows its "." yet, and then a digit does.
        assert_eq!(s.push("99 to $89. Want"), vec!["It costs $49.99 to $89."]);
        assert_eq!(s.push(" it at 2:30?\nOk"), vec!["Want it at 2:30?"]);
        assert_eq!(s.finish().as_deref(), Some("Ok"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn the_first_clause_goes_out_early_and_only_the_first() {
        let mut s = SentenceSplitter::default();
        // "Sure," is too short to stand alone; the clause after four words goes at once.
        assert!(s.push("Sure, I can").is_empty());
        assert_eq!(
            s.push(" book that for you, what"),
            vec!["Sure, I can book that for you,"]
        );
        // Later commas do not cut: the rest comes as whole sentences.
        assert!(s.push(" day, and what time, suits you").is_empty());
        assert_eq!(s.push("? Ok"), vec!["what day, and what time, suits you?"]);
        // A number's comma is not a break, and the next reply starts afresh.
        assert_eq!(s.finish().as_deref(), Some("Ok"));
        assert!(s.push("That comes to 1,200 dollars").is_empty());
        assert_eq!(
            s.push(" in all; want it?"),
            vec!["That comes to 1,200 dollars in all;"]
        );
    }
}
