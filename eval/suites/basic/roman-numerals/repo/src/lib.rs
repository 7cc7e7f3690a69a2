//! Roman numerals.

/// The value of a Roman numeral such as "MCMXCIV", or None when it has other characters.
pub fn from_roman(numeral: &str) -> Option<u32> {
    if numeral.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut largest = 0;
    for c in numeral.chars().rev() {
        let value = match c {
            'I' => 1,
            'V' => 5,
            'X' => 10,
            'L' => 50,
            'C' => 100,
            'D' => 500,
            'M' => 1000,
            _ => return None,
        };
        if value < largest {
            total -= value;
        } else {
            total += value;
            largest = value;
        }
    }
    u32::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_subtractive_notation() {
        assert_eq!(from_roman("MCMXCIV"), Some(1994));
        assert_eq!(from_roman("IV"), Some(4));
    }

    #[test]
    fn rejects_other_characters() {
        assert_eq!(from_roman("12"), None);
        assert_eq!(from_roman(""), None);
    }
}
