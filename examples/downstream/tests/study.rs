//! The downstream study runs end to end on the crate's public API.

use downstream_example::{implicit_ntk_study, two_clouds};

#[test]
fn the_study_gives_the_top_of_the_spectrum_and_a_small_equivalent_error() {
    let (x, y) = two_clouds(80, 300);
    let (top, error) = implicit_ntk_study(&x, &y).unwrap();
    assert_eq!(top.len(), 20);
    assert!(
        top.windows(2).all(|w| w[0] <= w[1]) && top[0] > 0.0,
        "{top:?}"
    );
    // The equivalent's relative error at p = 300 is a few percent (it falls like p^(−1/2), docs/equivalents.md).
    assert!(error > 0.0 && error < 0.1, "‖K̄ − K*‖₂/‖K*‖₂ = {error}");
}
