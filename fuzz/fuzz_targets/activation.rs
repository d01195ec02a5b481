//! Activation specifications as `deqk` takes them (`lrelu:a,b`, `quadratic:c0,c1,c2`, …): parsed or refused,
//! and a parsed one has finite moments at a scale, or an error saying why not.
#![no_main]

use deq_kernels::activation::{parse_activation, Activation, ScaleMoments};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let spec = String::from_utf8_lossy(data);
    if let Ok(act) = parse_activation(&spec) {
        let reparsed =
            parse_activation(&act.name()).expect("a parsed activation's name parses again");
        assert_eq!(reparsed.name(), act.name());
        if let Ok(m) = ScaleMoments::compute(&act, 0.7) {
            assert!(m.second_moment().is_finite(), "{spec}: {m:?}");
        }
    }
});
