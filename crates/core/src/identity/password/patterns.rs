//! Passwords long enough on paper but guessed at once: a few characters repeated
//! (`aaaaaaaaaaaa`, `abcabcabcabc`, `121212121212`) or a run along the digits, the alphabet or
//! a keyboard row (`123456789012`, `abcdefghijkl`, `qwertyuiopas`, and backwards).

/// Fewer distinct characters than this makes any length guessable.
const MIN_DISTINCT: usize = 4;

/// Orders an attacker walks; each is cyclic, so `…7890123…` is one run.
const SEQUENCES: [&str; 3] = ["0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm"];

/// Whether `lowered` (a lower-case password) is repetitive or sequential.
pub fn is_trivial(lowered: &str) -> bool {
    let chars: Vec<char> = lowered.chars().collect();
    few_distinct(&chars) || periodic(&chars) || SEQUENCES.iter().any(|s| runs_along(&chars, s))
}

fn few_distinct(chars: &[char]) -> bool {
    let mut seen: Vec<char> = Vec::with_capacity(MIN_DISTINCT);
    for &c in chars {
        if !seen.contains(&c) {
            seen.push(c);
            if seen.len() >= MIN_DISTINCT {
                return false;
            }
        }
    }
    true
}

/// The same block over and over (`abcdabcdabcd`), allowing a partial block at the end.
fn periodic(chars: &[char]) -> bool {
    (1..=chars.len() / 2).any(|period| chars.iter().skip(period).zip(chars).all(|(a, b)| a == b))
}

/// Every character is the next (or every one the previous) of the one before in `sequence`.
fn runs_along(chars: &[char], sequence: &str) -> bool {
    let order: Vec<char> = sequence.chars().collect();
    let Some(positions) = chars.iter().map(|c| order.iter().position(|o| o == c)).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let n = order.len();
    let steps_by = |step: usize| positions.windows(2).all(|w| w[1] == (w[0] + step) % n);
    positions.len() > 1 && (steps_by(1) || steps_by(n - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetitions_and_runs_are_trivial() {
        for trivial in [
            "aaaaaaaaaaaa",
            "abcabcabcabc",
            "121212121212",
            "abababababab1",
            "aaaaaaaabbbbbccc",
            "123456789012",
            "098765432109",
            "abcdefghijklm",
            "zyxwvutsrqpo",
            "qwertyuiopas",
            "lkjhgfdsapoiuy",
            "我爱我家我爱我家我爱我家",
        ] {
            assert!(is_trivial(trivial), "{trivial}");
        }
    }

    #[test]
    fn ordinary_passwords_are_not() {
        for fine in [
            "correct horse battery staple",
            "1234567890ab",
            "abcdefghijk1",
            "qwertyuiop[]",
            "aaaa bbbb cccc dddd",
            "一只很长的猫在屋顶上睡觉",
        ] {
            assert!(!is_trivial(fine), "{fine}");
        }
    }
}
