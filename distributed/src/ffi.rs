//! The C and Fortran surface of BLACS and ScaLAPACK this crate calls (Debian's `libscalapack-openmpi`, which
//! contains BLACS), declared by hand: no Rust bindings exist.
//!
//! Conventions: Fortran routines take every argument by pointer and 32-bit integers (the packaged libraries
//! are not ILP64), arrays column-major; each CHARACTER argument adds a hidden length (`usize`) after all the
//! others, in the order of the CHARACTER arguments. BLACS' C interface (`Cblacs_*`) takes values. A descriptor
//! is the nine integers of a dense block-cyclic matrix: (type = 1, context, M, N, MB, NB, RSRC, CSRC, LLD).
//!
//! Reference: the ScaLAPACK Users' Guide (Blackford et al., SIAM 1997), §4 (descriptors) and the routine
//! documentation in the ScaLAPACK sources.

use std::os::raw::{c_char, c_int};

use mpi::ffi::MPI_Comm;

extern "C" {
    /// The BLACS system handle of an MPI communicator.
    pub fn Csys2blacs_handle(comm: MPI_Comm) -> c_int;
    /// A process grid nprow × npcol over the handle in `*context` (replaced by the grid's context); `order`
    /// "Row" numbers processes row by row.
    pub fn Cblacs_gridinit(context: *mut c_int, order: *const c_char, nprow: c_int, npcol: c_int);
    /// The grid's shape and this process's coordinates (−1 for a process outside it).
    pub fn Cblacs_gridinfo(
        context: c_int,
        nprow: *mut c_int,
        npcol: *mut c_int,
        myrow: *mut c_int,
        mycol: *mut c_int,
    );
    /// Release a grid's context.
    pub fn Cblacs_gridexit(context: c_int);
    /// Release a system handle made by `Csys2blacs_handle`.
    pub fn Cfree_blacs_system_handle(handle: c_int);

    /// Rows (or columns) of an N-long dimension distributed in blocks of NB that process `iproc` of `nprocs`
    /// holds, the first block on `isrcproc`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn numroc_(
        n: *const c_int,
        nb: *const c_int,
        iproc: *const c_int,
        isrcproc: *const c_int,
        nprocs: *const c_int,
    ) -> c_int;

    /// Fill a descriptor, checking it (INFO < 0 names the bad argument).
    pub fn descinit_(
        desc: *mut c_int,
        m: *const c_int,
        n: *const c_int,
        mb: *const c_int,
        nb: *const c_int,
        irsrc: *const c_int,
        icsrc: *const c_int,
        context: *const c_int,
        lld: *const c_int,
        info: *mut c_int,
    );
}

/// The symmetric eigensolvers of one precision: p?syevd (all pairs, divide and conquer) and p?syevr (values
/// or pairs, all or an index range, MRRR).
macro_rules! syev_drivers {
    ($t:ty, $evd:ident, $evr:ident) => {
        extern "C" {
            pub fn $evd(
                jobz: *const c_char,
                uplo: *const c_char,
                n: *const c_int,
                a: *mut $t,
                ia: *const c_int,
                ja: *const c_int,
                desca: *const c_int,
                w: *mut $t,
                z: *mut $t,
                iz: *const c_int,
                jz: *const c_int,
                descz: *const c_int,
                work: *mut $t,
                lwork: *const c_int,
                iwork: *mut c_int,
                liwork: *const c_int,
                info: *mut c_int,
                jobz_len: usize,
                uplo_len: usize,
            );
            pub fn $evr(
                jobz: *const c_char,
                range: *const c_char,
                uplo: *const c_char,
                n: *const c_int,
                a: *mut $t,
                ia: *const c_int,
                ja: *const c_int,
                desca: *const c_int,
                vl: *const $t,
                vu: *const $t,
                il: *const c_int,
                iu: *const c_int,
                m: *mut c_int,
                nz: *mut c_int,
                w: *mut $t,
                z: *mut $t,
                iz: *const c_int,
                jz: *const c_int,
                descz: *const c_int,
                work: *mut $t,
                lwork: *const c_int,
                iwork: *mut c_int,
                liwork: *const c_int,
                info: *mut c_int,
                jobz_len: usize,
                range_len: usize,
                uplo_len: usize,
            );
        }
    };
}

syev_drivers!(f64, pdsyevd_, pdsyevr_);
syev_drivers!(f32, pssyevd_, pssyevr_);

/// PBLAS p?tran: C ← β·C + α·Aᵀ (C m×n, A n×m).
macro_rules! transpose {
    ($t:ty, $tran:ident) => {
        extern "C" {
            pub fn $tran(
                m: *const c_int,
                n: *const c_int,
                alpha: *const $t,
                a: *const $t,
                ia: *const c_int,
                ja: *const c_int,
                desca: *const c_int,
                beta: *const $t,
                c: *mut $t,
                ic: *const c_int,
                jc: *const c_int,
                descc: *const c_int,
            );
        }
    };
}

transpose!(f64, pdtran_);
transpose!(f32, pstran_);

extern "C" {
    /// The Fortran handle of a C communicator (OpenMPI's MPI_Fint is a C int).
    #[cfg_attr(not(feature = "elpa"), allow(dead_code))]
    pub fn MPI_Comm_c2f(comm: MPI_Comm) -> c_int;
}

/// ELPA's C API (version 2022.11, API 20221109), the typed symbols behind its `_Generic` macros. A handle is an
/// opaque pointer; settings are set by name before `elpa_setup` (the layout) and after it (the solver).
#[cfg(feature = "elpa")]
pub mod elpa {
    use std::os::raw::{c_char, c_int, c_void};

    /// The API version this binding follows.
    pub const API_VERSION: c_int = 20221109;
    /// ELPA_OK.
    pub const OK: c_int = 0;

    extern "C" {
        pub fn elpa_init(api_version: c_int) -> c_int;
        pub fn elpa_allocate(error: *mut c_int) -> *mut c_void;
        pub fn elpa_deallocate(handle: *mut c_void, error: *mut c_int);
        pub fn elpa_set_integer(
            handle: *mut c_void,
            name: *const c_char,
            value: c_int,
            error: *mut c_int,
        );
        pub fn elpa_setup(handle: *mut c_void) -> c_int;
        pub fn elpa_eigenvalues_a_h_a_d(
            handle: *mut c_void,
            a: *mut f64,
            ev: *mut f64,
            error: *mut c_int,
        );
        pub fn elpa_eigenvectors_a_h_a_d(
            handle: *mut c_void,
            a: *mut f64,
            ev: *mut f64,
            q: *mut f64,
            error: *mut c_int,
        );
        pub fn elpa_eigenvalues_a_h_a_f(
            handle: *mut c_void,
            a: *mut f32,
            ev: *mut f32,
            error: *mut c_int,
        );
        pub fn elpa_eigenvectors_a_h_a_f(
            handle: *mut c_void,
            a: *mut f32,
            ev: *mut f32,
            q: *mut f32,
            error: *mut c_int,
        );
    }
}
