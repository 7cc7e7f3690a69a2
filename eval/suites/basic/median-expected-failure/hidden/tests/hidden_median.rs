use median::median;

#[test]
fn even_counts() {
    assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
    assert_eq!(median(&[10.0, -10.0]), Some(0.0));
}
