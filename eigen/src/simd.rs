//! Run-time CPU feature detection for the hand-vectorized inner loops (each is also compiled portably and
//! chosen at run time, so one binary runs everywhere), and [`widest_vectors!`](crate::widest_vectors), the one
//! macro through which every such dispatch goes, in this crate and in deq-kernels. The AVX-512 paths need rustc
//! 1.89 (where their intrinsics and target feature became stable); `build.rs` sets `deq_avx512` for such
//! compilers, and older ones build the AVX2 and portable paths only.
//!
//! The environment variable [`PORTABLE_ENV`] (`DEQ_KERNELS_PORTABLE=1`) makes every dispatch take the portable
//! code, as on a CPU without AVX2: this is how the fallbacks are tested on machines that have the wide paths.
//! It is read once per process. (faer's own kernels keep their own detection.)

use std::sync::OnceLock;

/// The environment variable that forces the portable code paths when set to anything but empty or `0`.
pub const PORTABLE_ENV: &str = "DEQ_KERNELS_PORTABLE";

/// Whether [`PORTABLE_ENV`] forces the portable paths in this process.
pub fn portable_forced() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED
        .get_or_init(|| std::env::var_os(PORTABLE_ENV).is_some_and(|v| !v.is_empty() && v != "0"))
}

/// `a·b + c`, fused (one rounding) where `FUSED`: the variant for the wide paths of [`widest_vectors!`]'s
/// `fused =`, whose hardware has the instruction. Without FMA hardware `mul_add` is a library call per entry, so
/// the portable variants pass `false`.
#[inline(always)]
pub fn madd<T: crate::EigenScalar, const FUSED: bool>(a: T, b: T, c: T) -> T {
    if FUSED {
        a.fma(b, c)
    } else {
        a * b + c
    }
}

/// Whether the CPU has AVX2 and FMA (and the portable paths are not forced).
pub fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !portable_forced()
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has AVX-512F (512-bit registers, 32 of them) and the portable paths are not forced.
pub fn avx512f() -> bool {
    #[cfg(all(target_arch = "x86_64", deq_avx512))]
    {
        !portable_forced() && std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(all(target_arch = "x86_64", deq_avx512)))]
    {
        false
    }
}

/// Defines a function that runs `$portable` (an `#[inline(always)]` function of the same signature) compiled
/// for AVX-512F, or else AVX2 + FMA, when the CPU has them (see [`avx512f`], [`avx2_fma`]), so that its plain
/// loops are vectorized as wide as the CPU allows. The AVX-512 variant is compiled where the calling crate sets
/// the cfg `deq_avx512` (this crate does, from rustc 1.89; deq-kernels does not, so its loops stop at AVX2).
/// With `, fused = f`, the wide variants call `f` instead: a variant of the loop that uses fused multiply–adds
/// (`mul_add`), which only pay where the hardware has them. Generic parameters are written in brackets
/// (`fn dot[T: Real](…)`, for `<T: Real>`) and inferred from the arguments; a method passes its receiver as an ordinary
/// argument (`this: &Table`).
///
/// ```ignore
/// deq_eigen::widest_vectors! {
///     /// Σ x_i·y_i.
///     fn dot[T: Real](x: &[T], y: &[T]) -> T = dot_portable
/// }
/// ```
#[macro_export]
#[doc(hidden)]
macro_rules! widest_vectors {
    ($(#[$doc:meta])* $vis:vis fn $name:ident $([$($gen:tt)*])? ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $portable:path $(, fused = $fused:path)?) => {
        $(#[$doc])*
        $vis fn $name $(<$($gen)*>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[cfg(deq_avx512)]
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512 $(<$($gen)*>)? ($($arg: $ty),*) $(-> $ret)? {
                    $crate::widest_vectors!(@wide $portable $(, $fused)?)($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2 $(<$($gen)*>)? ($($arg: $ty),*) $(-> $ret)? {
                    $crate::widest_vectors!(@wide $portable $(, $fused)?)($($arg),*)
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
    (@wide $portable:path) => { $portable };
    (@wide $portable:path, $fused:path) => { $fused };
}
pub(crate) use widest_vectors;
