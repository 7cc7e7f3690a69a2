//! Summary statistics over integer samples.

/// The arithmetic mean, or None for an empty slice.
pub fn mean(values: &[i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let sum: i64 = values.iter().sum();
    Some(sum / values.len())
}

/// Largest minus smallest value, or None for an empty slice.
pub fn spread(values: &[i64]) -> Option<i64> {
    let min = values.iter().min()?;
    let max = values.iter().max()?;
    Some(max - min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_is_exact() {
        assert_eq!(mean(&[1, 2]), Some(1.5));
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn spread_of_samples() {
        assert_eq!(spread(&[3, -2, 7]), Some(9));
        assert_eq!(spread(&[]), None);
    }
}
