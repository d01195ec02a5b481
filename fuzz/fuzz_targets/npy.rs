//! Any bytes as a `.npy` file: the header parser and the three readers return a value or a typed error.
#![no_main]

use deq_kernels::npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = npy::NpyHeader::parse(&mut &data[..]) {
        let _ = (header.element_bytes(), header.data_bytes());
    }
    if let Ok(a) = npy::matrix_from_bytes(data) {
        assert_eq!(a.len(), a.nrows() * a.ncols());
    }
    let _ = npy::vector_from_bytes(data);
    let _ = npy::labels_from_bytes(data);
});
