use roman::{from_roman, to_roman};

#[test]
fn writes_standard_numerals() {
    assert_eq!(to_roman(1).as_deref(), Some("I"));
    assert_eq!(to_roman(49).as_deref(), Some("XLIX"));
    assert_eq!(to_roman(3999).as_deref(), Some("MMMCMXCIX"));
}

#[test]
fn out_of_range_is_none() {
    assert_eq!(to_roman(0), None);
    assert_eq!(to_roman(4000), None);
}

#[test]
fn round_trips() {
    for n in 1..=3999 {
        assert_eq!(from_roman(&to_roman(n).unwrap()), Some(n));
    }
}
