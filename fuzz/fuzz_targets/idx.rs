//! Two IDX files (images, labels) cut from one input at the position its first two bytes give; with the
//! third byte odd, both are gzipped first, so that the parser is reached through the decompressor too.
#![no_main]

use std::io::Write;

use deq_kernels::data::mnist;
use libfuzzer_sys::fuzz_target;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory")
}

fuzz_target!(|data: &[u8]| {
    let [a, b, mode, rest @ ..] = data else {
        return;
    };
    let cut = (usize::from(u16::from_le_bytes([*a, *b]))).min(rest.len());
    let (images, labels) = rest.split_at(cut);
    let result = if mode % 2 == 1 {
        mnist::from_bytes(&gzip(images), &gzip(labels))
    } else {
        mnist::from_bytes(images, labels)
    };
    if let Ok(d) = result {
        assert_eq!(d.x.nrows(), d.labels.len());
        assert!(d.labels.iter().all(|&l| (0..=9).contains(&l)));
    }
});
