"""Sandbox policy: every allow- and deny-list in one place, as plain constants.

Reviewers read this file to know what an LLM-written extractor may touch. Everything not listed
in ``ALLOWED_MODULES`` is unreachable: imports go through a hook that returns *proxies* holding
only the names below (numpy, scipy, scikit-image and cv2 re-export ``os``, ``sys``, ``ctypes``,
``subprocess``, ``builtins`` and file/URL/pickle APIs under plain names, so the policy is an
allowlist, never a denylist). The deny-lists exist for static rejection with a clear message and
for the security tests.

Known restriction to tell the LLM (RestrictedPython): augmented assignment on a subscript or an
attribute (``arr[i] += x``, ``obj.a += 1``) is a compile error; write ``arr[i] = arr[i] + x``.
Names and attributes starting with ``_`` are refused; so are classes, generators, ``global``
and ``async``. ``with`` is allowed (the only reachable context manager is ``np.errstate``).
"""

from __future__ import annotations

# ---------------------------------------------------------------- source limits (static layer)
MAX_SOURCE_BYTES = 64_000
MAX_SOURCE_LINES = 1_500
MAX_BRACKET_DEPTH = 30  # '(' '[' '{' nesting; CPython's own limit (200) crashes deeper in the AST
MAX_AST_DEPTH = 80
MAX_AST_NODES = 20_000

# ---------------------------------------------------------------- numpy
NUMPY_NAMES = """
abs absolute acos acosh add all allclose amax amin angle any append apply_along_axis arange
arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin argpartition argsort argwhere
around array array_equal array_equiv array_split asanyarray asarray asarray_chkfinite
ascontiguousarray asfortranarray asin asinh astype atan atan2 atanh atleast_1d atleast_2d
atleast_3d average bartlett bincount bitwise_and bitwise_count bitwise_invert bitwise_left_shift
bitwise_not bitwise_or bitwise_right_shift bitwise_xor blackman block bool bool_ broadcast_arrays
broadcast_shapes broadcast_to byte c_ can_cast cbrt cdouble ceil choose clip column_stack
common_type complex128 complex64 complexfloating compress concat concatenate conj conjugate
convolve copy copysign corrcoef correlate cos cosh count_nonzero cov cross csingle cumprod cumsum
cumulative_prod cumulative_sum deg2rad degrees delete diag diag_indices diag_indices_from diagflat
diagonal diff digitize divide divmod dot double dsplit dstack dtype e ediff1d einsum empty
empty_like equal errstate euler_gamma exp exp2 expand_dims expm1 extract eye fabs finfo fix flatnonzero
flip fliplr flipud float16 float32 float64 float_power floating floor floor_divide fmax fmin fmod
frexp fromfunction fromiter full full_like gcd generic geomspace gradient greater greater_equal
half hamming hanning heaviside histogram histogram2d histogram_bin_edges histogramdd hsplit hstack
hypot i0 identity iinfo imag indices inexact inf inner insert int16 int32 int64 int8 int_ intc
integer interp intersect1d intp invert isclose iscomplex iscomplexobj isfinite isin isinf isnan
isneginf isposinf isreal isrealobj isscalar issubdtype ix_ kaiser kron lcm ldexp left_shift less
less_equal lexsort linspace log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not
logical_or logical_xor logspace longdouble matmul max maximum mean median meshgrid mgrid min
minimum mod modf moveaxis multiply nan nan_to_num nanargmax nanargmin nancumprod nancumsum nanmax
nanmean nanmedian nanmin nanpercentile nanprod nanquantile nanstd nansum nanvar ndarray ndim
negative newaxis nextafter nonzero not_equal number ogrid ones ones_like outer packbits pad
partition percentile permute_dims pi piecewise poly polyfit polyval positive pow power prod
promote_types ptp quantile r_ rad2deg radians ravel ravel_multi_index real real_if_close
reciprocal remainder repeat reshape resize result_type right_shift rint roll rollaxis roots rot90
round row_stack s_ searchsorted select setdiff1d setxor1d shape sign signbit signedinteger sin
sinc single sinh size sort spacing split sqrt square squeeze stack std subtract sum swapaxes take
take_along_axis tan tanh tensordot tile trace transpose trapezoid tri tril tril_indices
tril_indices_from trim_zeros triu triu_indices triu_indices_from true_divide trunc ubyte uint
uint16 uint32 uint64 uint8 uintc uintp union1d unique unique_counts unique_inverse unique_values
unpackbits unravel_index unsignedinteger unwrap vander var vdot vectorize vsplit vstack where
zeros zeros_like
""".split()

NUMPY_LINALG_NAMES = """
LinAlgError cholesky cond det eig eigh eigvals eigvalsh inv lstsq matrix_norm matrix_power
matrix_rank multi_dot norm pinv qr slogdet solve svd svdvals vector_norm
""".split()

NUMPY_FFT_NAMES = """
fft fft2 fftfreq fftn fftshift ifft ifft2 ifftn ifftshift irfft irfft2 irfftn rfft rfft2 rfftfreq
rfftn
""".split()

# ---------------------------------------------------------------- scipy.ndimage (all of it is pure array code)
SCIPY_NDIMAGE_NAMES = """
affine_transform binary_closing binary_dilation binary_erosion binary_fill_holes
binary_hit_or_miss binary_opening binary_propagation black_tophat center_of_mass convolve
convolve1d correlate correlate1d distance_transform_bf distance_transform_cdt
distance_transform_edt extrema find_objects fourier_gaussian fourier_shift fourier_uniform
gaussian_filter gaussian_filter1d gaussian_gradient_magnitude gaussian_laplace
generate_binary_structure generic_filter generic_filter1d grey_closing grey_dilation grey_erosion
grey_opening histogram iterate_structure label labeled_comprehension laplace map_coordinates
maximum maximum_filter maximum_filter1d maximum_position mean median median_filter minimum
minimum_filter minimum_filter1d minimum_position morphological_gradient morphological_laplace
percentile_filter prewitt rank_filter rotate shift sobel standard_deviation sum sum_labels
uniform_filter uniform_filter1d value_indices variance white_tophat zoom
""".split()

# ---------------------------------------------------------------- scikit-image (analysis parts; no io, no data, no plotting)
SKIMAGE_NAMES: dict[str, list[str]] = {
    "color": """
        combine_stains convert_colorspace deltaE_cie76 deltaE_ciede2000 deltaE_ciede94 deltaE_cmc
        gray2rgb hed2rgb hed_from_rgb hsv2rgb lab2lch lab2rgb lab2xyz lch2lab luv2rgb luv2xyz
        rgb2gray rgb2hed rgb2hsv rgb2lab rgb2luv rgb2xyz rgb2ycbcr rgb2yiq rgb2yuv rgb_from_hed
        rgba2rgb separate_stains xyz2lab xyz2luv xyz2rgb ycbcr2rgb""".split(),
    "measure": """
        approximate_polygon block_reduce blur_effect centroid euler_number find_contours
        grid_points_in_poly inertia_tensor inertia_tensor_eigvals label moments moments_central
        moments_coords moments_coords_central moments_hu moments_normalized perimeter
        perimeter_crofton points_in_poly profile_line regionprops regionprops_table
        shannon_entropy subdivide_polygon""".split(),
    "morphology": """
        area_closing area_opening black_tophat closing convex_hull_image convex_hull_object
        diameter_closing diameter_opening diamond dilation disk ellipse erosion flood flood_fill
        footprint_rectangle h_maxima h_minima isotropic_closing isotropic_dilation
        isotropic_erosion isotropic_opening label local_maxima local_minima medial_axis octagon
        opening reconstruction remove_small_holes remove_small_objects skeletonize star thin
        white_tophat""".split(),
    "filters": """
        apply_hysteresis_threshold butterworth difference_of_gaussians farid frangi gabor
        gabor_kernel gaussian hessian laplace median meijering prewitt prewitt_h prewitt_v
        rank_order roberts sato scharr scharr_h scharr_v sobel sobel_h sobel_v threshold_isodata
        threshold_li threshold_local threshold_mean threshold_minimum threshold_multiotsu
        threshold_niblack threshold_otsu threshold_sauvola threshold_triangle threshold_yen
        unsharp_mask window""".split(),
    "feature": """
        blob_dog blob_doh blob_log canny corner_fast corner_foerstner corner_harris corner_peaks
        corner_shi_tomasi graycomatrix graycoprops hessian_matrix hessian_matrix_det
        hessian_matrix_eigvals hog local_binary_pattern match_template multiblock_lbp
        peak_local_max shape_index structure_tensor structure_tensor_eigenvalues""".split(),
    "segmentation": """
        chan_vese clear_border expand_labels felzenszwalb find_boundaries flood flood_fill
        join_segmentations mark_boundaries morphological_chan_vese relabel_sequential slic
        watershed""".split(),
    "exposure": """
        adjust_gamma adjust_log adjust_sigmoid cumulative_distribution equalize_adapthist
        equalize_hist histogram is_low_contrast match_histograms rescale_intensity""".split(),
    "transform": """
        downscale_local_mean hough_circle hough_circle_peaks hough_line hough_line_peaks
        integral_image integrate pyramid_reduce radon rescale resize resize_local_mean rotate
        warp_polar
        warp matrix_transform AffineTransform EuclideanTransform SimilarityTransform""".split(),
    "util": """
        crop dtype_limits img_as_bool img_as_float img_as_float32 img_as_float64 img_as_int
        img_as_ubyte img_as_uint invert map_array regular_grid unique_rows view_as_blocks
        view_as_windows""".split(),
}

# ---------------------------------------------------------------- cv2: pure image analysis only
# (no imread/imwrite/VideoCapture/FileStorage/dnn/ml/utils/samples/setNumThreads/...)
CV2_NAMES = """
absdiff add addWeighted approxPolyDP arcLength bilateralFilter bitwise_and bitwise_not bitwise_or
bitwise_xor blur boundingRect boxFilter boxPoints calcHist Canny cartToPolar compare
connectedComponents connectedComponentsWithStats contourArea convertScaleAbs convexHull
convexityDefects countNonZero cvtColor dilate distanceTransform divide drawContours
equalizeHist erode filter2D findContours fitEllipse fitLine floodFill GaussianBlur
getGaborKernel getStructuringElement HuMoments inRange integral isContourConvex Laplacian
magnitude matchShapes max mean meanStdDev medianBlur merge min minAreaRect minEnclosingCircle
minMaxLoc moments morphologyEx multiply normalize phase pointPolygonTest pyrDown resize Scharr
Sobel split subtract sumElems threshold
copyMakeBorder flip getAffineTransform getPerspectiveTransform getRotationMatrix2D
invertAffineTransform perspectiveTransform remap rotate transform transpose warpAffine
warpPerspective warpPolar
error
ADAPTIVE_THRESH_GAUSSIAN_C ADAPTIVE_THRESH_MEAN_C BORDER_CONSTANT BORDER_DEFAULT BORDER_REFLECT
BORDER_REPLICATE CC_STAT_AREA CC_STAT_HEIGHT CC_STAT_LEFT CC_STAT_TOP CC_STAT_WIDTH
CHAIN_APPROX_NONE CHAIN_APPROX_SIMPLE COLOR_BGR2GRAY COLOR_BGR2HSV COLOR_BGR2LAB COLOR_BGR2RGB
COLOR_GRAY2RGB COLOR_HSV2RGB COLOR_LAB2RGB COLOR_RGB2BGR COLOR_RGB2GRAY COLOR_RGB2HLS
COLOR_RGB2HSV COLOR_RGB2HSV_FULL COLOR_RGB2LAB COLOR_RGB2Lab COLOR_RGB2LUV COLOR_RGB2XYZ
COLOR_RGB2YCrCb CONTOURS_MATCH_I1 CONTOURS_MATCH_I2 CONTOURS_MATCH_I3 CV_16S CV_32F CV_32S CV_64F
CV_8U DIST_C DIST_L1 DIST_L2 DIST_MASK_3 DIST_MASK_5 DIST_MASK_PRECISE FILLED INTER_AREA
INTER_CUBIC INTER_LINEAR INTER_NEAREST MORPH_BLACKHAT MORPH_CLOSE MORPH_CROSS MORPH_DILATE
MORPH_ELLIPSE MORPH_ERODE MORPH_GRADIENT MORPH_OPEN MORPH_RECT MORPH_TOPHAT NORM_INF NORM_L1
NORM_L2 NORM_MINMAX RETR_CCOMP RETR_EXTERNAL RETR_LIST RETR_TREE THRESH_BINARY THRESH_BINARY_INV
THRESH_OTSU THRESH_TOZERO THRESH_TRIANGLE THRESH_TRUNC
BORDER_REFLECT101 BORDER_REFLECT_101 BORDER_TRANSPARENT BORDER_WRAP INTER_LANCZOS4
INTER_LINEAR_EXACT INTER_NEAREST_EXACT ROTATE_180 ROTATE_90_CLOCKWISE ROTATE_90_COUNTERCLOCKWISE
WARP_FILL_OUTLIERS WARP_INVERSE_MAP WARP_POLAR_LINEAR WARP_POLAR_LOG
""".split()
# Additions after issue 11 (geometric transforms, ``cv2.error`` for ``except`` clauses, the
# skimage.transform geometry classes): each is reviewed in sandbox/README.md, "Policy additions".

MATH_NAMES = """
acos acosh asin asinh atan atan2 atanh cbrt ceil comb copysign cos cosh degrees dist e erf erfc
exp exp2 expm1 fabs factorial floor fmod frexp fsum gamma gcd hypot inf isclose isfinite isinf
isnan isqrt lcm ldexp lgamma log log10 log1p log2 modf nan nextafter perm pi pow prod radians
remainder sin sinh sqrt tan tanh tau trunc ulp
""".split()

# module name -> allowed member names. A dotted key is a sub-proxy reachable from its parent and
# importable on its own (``import scipy.ndimage as ndi``, ``from skimage import color``).
ALLOWED_MODULES: dict[str, list[str]] = {
    "numpy": NUMPY_NAMES,
    "numpy.linalg": NUMPY_LINALG_NAMES,
    "numpy.fft": NUMPY_FFT_NAMES,
    "scipy": [],
    "scipy.ndimage": SCIPY_NDIMAGE_NAMES,
    "skimage": [],
    **{f"skimage.{sub}": names for sub, names in SKIMAGE_NAMES.items()},
    "cv2": CV2_NAMES,
    "math": MATH_NAMES,
}

# ---------------------------------------------------------------- builtins
SAFE_BUILTIN_NAMES = """
abs all any bin bool callable chr complex dict divmod enumerate filter float frozenset hash hex
int iter len list map max min next oct ord pow range repr reversed round set slice sorted str sum
tuple zip
ArithmeticError AssertionError Exception FloatingPointError IndexError KeyError LookupError
NotImplementedError OverflowError RuntimeError StopIteration TypeError ValueError
ZeroDivisionError
""".split()

# The one underscore name allowed: ``_`` as a throwaway variable (``for _ in range(3)``,
# ``a, _ = divmod(x, 2)``). It names only what the extractor itself bound; ``_``-prefixed names and
# every ``_`` attribute stay refused (see sandbox/README.md, "Policy additions").
THROWAWAY_NAME = "_"

# ---------------------------------------------------------------- static deny-lists (clear messages)
DANGEROUS_NAMES = frozenset(
    """
    __import__ __builtins__ breakpoint classmethod compile delattr dir eval exec exit getattr
    globals hasattr help input locals memoryview object open property quit setattr staticmethod
    super type vars id os sys subprocess ctypes builtins importlib
    """.split()
)

# Attribute names refused on every object, even without a leading underscore: frame/code/
# generator internals, array escape hatches to raw memory or files (``base`` would expose the
# writable receive buffer behind the read-only input arrays), format-string tricks.
DANGEROUS_ATTRIBUTES = frozenset(
    """
    ag_code ag_frame base co_code co_consts co_names cr_code cr_frame ctypes dump dumps f_back
    f_builtins f_code f_globals f_locals format format_map func_globals gi_code gi_frame
    gi_yieldfrom im_func mro setflags tb_frame tb_next tofile tolist_unsafe
    """.split()
)

# Documented examples of what numpy/cv2/skimage/scipy offer and the policy never exposes
# (the security tests are parametrised over these).
DANGEROUS_LIBRARY_ATTRIBUTES = {
    "numpy": "save savez load loadtxt savetxt genfromtxt fromfile memmap DataSource lib ctypeslib "
    "testing f2py os sys".split(),
    "cv2": "imread imwrite imdecode VideoCapture VideoWriter FileStorage dnn utils os sys".split(),
    "skimage": "io data".split(),
    "scipy": "io misc LowLevelCallable".split(),
}

# Python node types an extractor may use; anything else is rejected with its line number.
ALLOWED_AST_NODES = frozenset(
    """
    Module Expr Assign AnnAssign AugAssign Return If For While Break Continue Pass Import With withitem
    ImportFrom alias FunctionDef arguments arg Lambda Raise Try ExceptHandler Assert Delete
    Name Load Store Del Constant Attribute Subscript Slice Starred List Tuple Set Dict
    ListComp SetComp DictComp GeneratorExp comprehension IfExp NamedExpr Call keyword
    BoolOp And Or UnaryOp Not USub UAdd Invert BinOp Add Sub Mult Div FloorDiv Mod Pow
    MatMult LShift RShift BitOr BitXor BitAnd Compare Eq NotEq Lt LtE Gt GtE Is IsNot In NotIn
    JoinedStr FormattedValue
    """.split()
)

# ---------------------------------------------------------------- rules to show the LLM (prompt and repair text)
PROMPT_RULES = (
    "Define extract(image, mask) and a module docstring (criterion, formula, units, range, NaN policy).",
    "image is (H, W, 3) uint8 RGB and read-only; mask is (H, W) bool; work on copies such as image.astype(float).",
    "Convert channels to float before subtracting them (uint8 arithmetic wraps around: 10 - 20 = 246).",
    "Return a plain dict of str -> float with the same keys for every image; keys are stored in "
    "snake_case ('deltaA' and 'Delta-A' become 'delta_a').",
    "NaN only for an empty, one-pixel or whole-image mask, and say so in the docstring.",
    "Import only the allowlisted modules/names; no files, network, os, sys, classes, generators, global.",
    "Names and attributes must not start with '_' ('_' alone is fine as a throwaway name); "
    "write 'a[i] = a[i] + x' instead of 'a[i] += x'.",
    "Be deterministic (no randomness, no state kept between calls) and vectorise with numpy.",
)

# ---------------------------------------------------------------- result transport
MAX_OUTPUT_KEYS = 64
MAX_KEY_LENGTH = 64
MAX_REPLY_BYTES = 256_000  # a traceback may be long; features are far below this
MAX_PRINT_CHARS = 10_000

# ---------------------------------------------------------------- OS layers (names used by Limits.require_layers)
LAYERS = (
    "static_policy",
    "restricted_python",
    "process_isolation",
    "empty_env",
    "rlimits",
    "no_new_privs",
    "seccomp",
    "network_namespace",
    "landlock",
)
