//! Run-time CPU feature detection for the hand-vectorized inner loops (each is also compiled portably and
//! chosen at run time, so one binary runs everywhere). The AVX-512 paths need rustc 1.89 (where their intrinsics
//! and target feature became stable); `build.rs` sets `deq_avx512` for such compilers, and older ones build the
//! AVX2 and portable paths only.

/// Whether the CPU has AVX2 and FMA.
pub(crate) fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has AVX-512F (512-bit registers, 32 of them).
#[cfg(deq_avx512)]
pub(crate) fn avx512f() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a function that runs `$portable` (an `#[inline(always)]` function of the same signature) compiled
/// for AVX-512F, or else AVX2 + FMA, when the CPU has them, so that its plain loops are vectorized as wide as
/// the CPU allows.
macro_rules! widest_vectors {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $portable:ident) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[cfg(deq_avx512)]
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) -> $ret {
                    $portable($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) -> $ret {
                    $portable($($arg),*)
                }
                #[cfg(deq_avx512)]
                if $crate::simd::avx512f() {
                    // SAFETY: the CPU has AVX-512F.
                    return unsafe { avx512($($arg),*) };
                }
                if $crate::simd::avx2_fma() {
                    // SAFETY: the CPU has AVX2 and FMA.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $portable($($arg),*)
        }
    };
}
pub(crate) use widest_vectors;
