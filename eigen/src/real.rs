//! The element types of large matrices: `f32` and `f64`, and no others.

mod sealed {
    /// Closes [`super::Real`] to f32 and f64: the crate's unsafe code (zeroed allocations read as numbers,
    /// reinterpretations between `Array2<f64>` and `Array2<T>`, LAPACK calls) is sound only for them.
    #[cfg(feature = "openblas")]
    pub trait Sealed: crate::lapack_driver::LapackScalar {}
    #[cfg(not(feature = "openblas"))]
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Element type of a kernel matrix or of a matrix given to an eigensolver: `f32` or `f64` (sealed). Kernel
/// entries are computed in `f64` and rounded once when stored.
pub trait Real:
    sealed::Sealed + Copy + Send + Sync + Default + PartialOrd + std::fmt::Debug + 'static
{
    /// The value rounded to this type.
    fn from_f64(v: f64) -> Self;
    /// The value as f64 (exact).
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
