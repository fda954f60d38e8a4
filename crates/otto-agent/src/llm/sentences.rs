//! [`SentenceSplitter`]: cuts streamed reply text into sentences so speech can start on the
//! first one while the model is still writing the rest.

/// Buffers text fragments and yields complete sentences: text up to `.`, `!` or `?` followed
/// by whitespace, or up to a line break. Decimals and times (`$49.99`, `2:30`) are not cut
/// because no whitespace follows their `.`/`:`.
#[derive(Debug, Default)]
pub(crate) struct SentenceSplitter {
    buf: String,
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
                    (ends || c == '\n').then_some(i + c.len_utf8())
                });
            let Some(cut) = cut else { break };
            let sentence = self.buf[..cut].trim().to_owned();
            self.buf.drain(..cut);
            if !sentence.is_empty() {
                out.push(sentence);
            }
        }
        out
    }

    /// The rest of the text (an unfinished last sentence), trimmed; `None` when empty.
    pub(crate) fn finish(&mut self) -> Option<String> {
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
}
