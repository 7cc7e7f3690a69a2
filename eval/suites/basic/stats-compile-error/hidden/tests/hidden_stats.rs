use stats::{mean, spread};

#[test]
fn mean_of_negative_and_large_values() {
    assert_eq!(mean(&[-3, 4]), Some(0.5));
    assert_eq!(mean(&[1_000_000_000, 1_000_000_001]), Some(1_000_000_000.5));
}

#[test]
fn spread_still_works() {
    assert_eq!(spread(&[5]), Some(0));
}
