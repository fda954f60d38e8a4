//! Local text-to-speech, implementing `otto_core::speech::tts::TextToSpeech`: flite through a
//! small FFI binding ([`flite`]) and the per-call streams ([`local`]); and [`split_sentences`],
//! how the local engine cuts text for sentence-by-sentence synthesis.

pub mod flite;
pub mod local;

/// Splits text into sentences for sentence-by-sentence synthesis: a sentence ends at `.`, `!`,
/// `?` or `;` followed by whitespace, or at a line break. Empty pieces are dropped.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|&(_, n)| n.is_whitespace());
        if c == '\n' || (matches!(c, '.' | '!' | '?' | ';') && next_is_space) {
            let end = i + c.len_utf8();
            let piece = text[start..end].trim();
            if !piece.is_empty() {
                out.push(piece);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_on_terminators() {
        assert_eq!(
            split_sentences("Hi there. Is 3.5 hours ok? Yes!\nBye"),
            vec!["Hi there.", "Is 3.5 hours ok?", "Yes!", "Bye"]
        );
        assert!(split_sentences("   ").is_empty());
    }
}
