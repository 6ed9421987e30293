//! Column-name patterns: `*` matches any run of characters, `?` any one character; everything
//! else matches itself. Enough for `x*`, `embd.PC*`, `e?`.

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with backtracking to the last `*` (linear in practice).
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern has wildcards.
pub fn is_pattern(pattern: &str) -> bool {
    pattern.contains('*') || pattern.contains('?')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_cases() {
        assert!(matches("x*", "x12"));
        assert!(matches("x*", "x"));
        assert!(!matches("x*", "gs"));
        assert!(matches("embd.PC*", "embd.PC50"));
        assert!(!matches("embd.PC*", "embdxPC1"));
        assert!(matches("e?", "e1"));
        assert!(!matches("e?", "e10"));
        assert!(matches("*PC*", "embd.PC3"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("pb", "pb"));
    }
}
