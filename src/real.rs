//! The element types of large matrices.

/// Element type of a kernel matrix or of a matrix given to an eigensolver: `f32` or `f64`. Kernel entries are
/// always computed in `f64` and rounded once when stored.
pub trait Real: Copy + Send + Sync + Default + PartialOrd + std::fmt::Debug + 'static {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f64 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
