// The constants of the `flags(TABLE)` and `oneof(TABLE)` rules of the libraries beyond the C
// core, one row a line, as tables.rs holds the C library's. Every row is typed by hand:
// tests/library_constants.rs compiles each against the libraries' own headers (found with
// pkg-config), so VALUE must be a C expression too (no `_` in literals, no suffixes).
//
// pkg-config: x11 ncursesw libxml-2.0 libpng glib-2.0
// C headers: X11/Xlib.h X11/X.h curses.h libxml/parser.h libxml/HTMLparser.h libxml/xmlsave.h png.h glib.h

use super::{Field, Row, Xlat};

/// A row typed by hand (tests/library_constants.rs compares it with the headers).
macro_rules! h {
    ($name:ident = $value:expr) => {
        Row {
            name: stringify!($name),
            value: $value,
        }
    };
}

/// Every table of this file, for the generator's lint (`find`).
pub static LIBRARY_TABLES: &[&Xlat] = &[
    &X_EVENT_MASK,
    &X_POINTER_EVENT_MASK,
    &X_MODIFIER_MASK,
    &X_GC_MASK,
    &X_WINDOW_ATTRIBUTE_MASK,
    &X_CONFIGURE_MASK,
    &X_KEYBOARD_CONTROL_MASK,
    &X_WINDOW_CLASS,
    &X_GC_FUNCTION,
    &X_LINE_STYLE,
    &X_CAP_STYLE,
    &X_JOIN_STYLE,
    &X_FILL_STYLE,
    &X_FILL_RULE,
    &X_ARC_MODE,
    &X_SUBWINDOW_MODE,
    &X_CLIP_ORDERING,
    &X_COORD_MODE,
    &X_POLYGON_SHAPE,
    &X_IMAGE_FORMAT,
    &X_GET_IMAGE_FORMAT,
    &X_PROPERTY_MODE,
    &X_GRAB_MODE,
    &X_REVERT_TO,
    &X_ALLOW_EVENTS_MODE,
    &X_CLOSE_DOWN_MODE,
    &X_CIRCULATE_DIRECTION,
    &X_SAVE_SET_MODE,
    &X_SCREEN_SAVER_MODE,
    &CURSES_ATTRIBUTES,
    &XML_PARSER_OPTIONS,
    &HTML_PARSER_OPTIONS,
    &XML_SAVE_OPTIONS,
    &PNG_COLOR_TYPE,
    &PNG_INTERLACE,
    &PNG_COMPRESSION_TYPE,
    &PNG_FILTER_TYPE,
    &PNG_FILTERS,
    &PNG_FILLER,
    &PNG_SRGB_INTENT,
    &PNG_RESOLUTION_UNIT,
    &G_FILE_TEST,
];

// --- libX11: masks (X11/X.h)

/// The event masks of XSelectInput, XSendEvent and the event-queue functions.
const X_EVENTS: &[Row] = &[
    h!(KeyPressMask = 1 << 0),
    h!(KeyReleaseMask = 1 << 1),
    h!(ButtonPressMask = 1 << 2),
    h!(ButtonReleaseMask = 1 << 3),
    h!(EnterWindowMask = 1 << 4),
    h!(LeaveWindowMask = 1 << 5),
    h!(PointerMotionMask = 1 << 6),
    h!(PointerMotionHintMask = 1 << 7),
    h!(Button1MotionMask = 1 << 8),
    h!(Button2MotionMask = 1 << 9),
    h!(Button3MotionMask = 1 << 10),
    h!(Button4MotionMask = 1 << 11),
    h!(Button5MotionMask = 1 << 12),
    h!(ButtonMotionMask = 1 << 13),
    h!(KeymapStateMask = 1 << 14),
    h!(ExposureMask = 1 << 15),
    h!(VisibilityChangeMask = 1 << 16),
    h!(StructureNotifyMask = 1 << 17),
    h!(ResizeRedirectMask = 1 << 18),
    h!(SubstructureNotifyMask = 1 << 19),
    h!(SubstructureRedirectMask = 1 << 20),
    h!(FocusChangeMask = 1 << 21),
    h!(PropertyChangeMask = 1 << 22),
    h!(ColormapChangeMask = 1 << 23),
    h!(OwnerGrabButtonMask = 1 << 24),
];

pub static X_EVENT_MASK: Xlat = Xlat::new("x_event_mask", X_EVENTS);

/// The pointer events a grab reports (the protocol's SETofPOINTEREVENT, ButtonPressMask to
/// KeymapStateMask: others are BadValue).
pub static X_POINTER_EVENT_MASK: Xlat = Xlat::new(
    "x_pointer_event_mask",
    X_EVENTS.split_at(15).0.split_at(2).1,
);

/// The modifiers of a passive grab (XGrabKey, XGrabButton).
pub static X_MODIFIER_MASK: Xlat = Xlat::new(
    "x_modifier_mask",
    &[
        h!(ShiftMask = 1 << 0),
        h!(LockMask = 1 << 1),
        h!(ControlMask = 1 << 2),
        h!(Mod1Mask = 1 << 3),
        h!(Mod2Mask = 1 << 4),
        h!(Mod3Mask = 1 << 5),
        h!(Mod4Mask = 1 << 6),
        h!(Mod5Mask = 1 << 7),
        h!(AnyModifier = 1 << 15),
    ],
);

/// The members of an XGCValues a call reads or writes (XCreateGC, XChangeGC, XGetGCValues,
/// XCopyGC).
pub static X_GC_MASK: Xlat = Xlat::new(
    "x_gc_mask",
    &[
        h!(GCFunction = 1 << 0),
        h!(GCPlaneMask = 1 << 1),
        h!(GCForeground = 1 << 2),
        h!(GCBackground = 1 << 3),
        h!(GCLineWidth = 1 << 4),
        h!(GCLineStyle = 1 << 5),
        h!(GCCapStyle = 1 << 6),
        h!(GCJoinStyle = 1 << 7),
        h!(GCFillStyle = 1 << 8),
        h!(GCFillRule = 1 << 9),
        h!(GCTile = 1 << 10),
        h!(GCStipple = 1 << 11),
        h!(GCTileStipXOrigin = 1 << 12),
        h!(GCTileStipYOrigin = 1 << 13),
        h!(GCFont = 1 << 14),
        h!(GCSubwindowMode = 1 << 15),
        h!(GCGraphicsExposures = 1 << 16),
        h!(GCClipXOrigin = 1 << 17),
        h!(GCClipYOrigin = 1 << 18),
        h!(GCClipMask = 1 << 19),
        h!(GCDashOffset = 1 << 20),
        h!(GCDashList = 1 << 21),
        h!(GCArcMode = 1 << 22),
    ],
);

/// The members of an XSetWindowAttributes a call reads (XCreateWindow, XChangeWindowAttributes).
pub static X_WINDOW_ATTRIBUTE_MASK: Xlat = Xlat::new(
    "x_window_attribute_mask",
    &[
        h!(CWBackPixmap = 1 << 0),
        h!(CWBackPixel = 1 << 1),
        h!(CWBorderPixmap = 1 << 2),
        h!(CWBorderPixel = 1 << 3),
        h!(CWBitGravity = 1 << 4),
        h!(CWWinGravity = 1 << 5),
        h!(CWBackingStore = 1 << 6),
        h!(CWBackingPlanes = 1 << 7),
        h!(CWBackingPixel = 1 << 8),
        h!(CWOverrideRedirect = 1 << 9),
        h!(CWSaveUnder = 1 << 10),
        h!(CWEventMask = 1 << 11),
        h!(CWDontPropagate = 1 << 12),
        h!(CWColormap = 1 << 13),
        h!(CWCursor = 1 << 14),
    ],
);

/// The members of an XWindowChanges XConfigureWindow reads.
pub static X_CONFIGURE_MASK: Xlat = Xlat::new(
    "x_configure_mask",
    &[
        h!(CWX = 1 << 0),
        h!(CWY = 1 << 1),
        h!(CWWidth = 1 << 2),
        h!(CWHeight = 1 << 3),
        h!(CWBorderWidth = 1 << 4),
        h!(CWSibling = 1 << 5),
        h!(CWStackMode = 1 << 6),
    ],
);

/// The members of an XKeyboardControl XChangeKeyboardControl reads.
pub static X_KEYBOARD_CONTROL_MASK: Xlat = Xlat::new(
    "x_keyboard_control_mask",
    &[
        h!(KBKeyClickPercent = 1 << 0),
        h!(KBBellPercent = 1 << 1),
        h!(KBBellPitch = 1 << 2),
        h!(KBBellDuration = 1 << 3),
        h!(KBLed = 1 << 4),
        h!(KBLedMode = 1 << 5),
        h!(KBKey = 1 << 6),
        h!(KBAutoRepeatMode = 1 << 7),
    ],
);

// --- libX11: enumerations (X11/X.h)

pub static X_WINDOW_CLASS: Xlat = Xlat::new(
    "x_window_class",
    &[
        h!(CopyFromParent = 0),
        h!(InputOutput = 1),
        h!(InputOnly = 2),
    ],
);

pub static X_GC_FUNCTION: Xlat = Xlat::new(
    "x_gc_function",
    &[
        h!(GXclear = 0x0),
        h!(GXand = 0x1),
        h!(GXandReverse = 0x2),
        h!(GXcopy = 0x3),
        h!(GXandInverted = 0x4),
        h!(GXnoop = 0x5),
        h!(GXxor = 0x6),
        h!(GXor = 0x7),
        h!(GXnor = 0x8),
        h!(GXequiv = 0x9),
        h!(GXinvert = 0xa),
        h!(GXorReverse = 0xb),
        h!(GXcopyInverted = 0xc),
        h!(GXorInverted = 0xd),
        h!(GXnand = 0xe),
        h!(GXset = 0xf),
    ],
);

pub static X_LINE_STYLE: Xlat = Xlat::new(
    "x_line_style",
    &[
        h!(LineSolid = 0),
        h!(LineOnOffDash = 1),
        h!(LineDoubleDash = 2),
    ],
);

pub static X_CAP_STYLE: Xlat = Xlat::new(
    "x_cap_style",
    &[
        h!(CapNotLast = 0),
        h!(CapButt = 1),
        h!(CapRound = 2),
        h!(CapProjecting = 3),
    ],
);

pub static X_JOIN_STYLE: Xlat = Xlat::new(
    "x_join_style",
    &[h!(JoinMiter = 0), h!(JoinRound = 1), h!(JoinBevel = 2)],
);

pub static X_FILL_STYLE: Xlat = Xlat::new(
    "x_fill_style",
    &[
        h!(FillSolid = 0),
        h!(FillTiled = 1),
        h!(FillStippled = 2),
        h!(FillOpaqueStippled = 3),
    ],
);

pub static X_FILL_RULE: Xlat =
    Xlat::new("x_fill_rule", &[h!(EvenOddRule = 0), h!(WindingRule = 1)]);

pub static X_ARC_MODE: Xlat = Xlat::new("x_arc_mode", &[h!(ArcChord = 0), h!(ArcPieSlice = 1)]);

pub static X_SUBWINDOW_MODE: Xlat = Xlat::new(
    "x_subwindow_mode",
    &[h!(ClipByChildren = 0), h!(IncludeInferiors = 1)],
);

pub static X_CLIP_ORDERING: Xlat = Xlat::new(
    "x_clip_ordering",
    &[
        h!(Unsorted = 0),
        h!(YSorted = 1),
        h!(YXSorted = 2),
        h!(YXBanded = 3),
    ],
);

pub static X_COORD_MODE: Xlat = Xlat::new(
    "x_coord_mode",
    &[h!(CoordModeOrigin = 0), h!(CoordModePrevious = 1)],
);

pub static X_POLYGON_SHAPE: Xlat = Xlat::new(
    "x_polygon_shape",
    &[h!(Complex = 0), h!(Nonconvex = 1), h!(Convex = 2)],
);

pub static X_IMAGE_FORMAT: Xlat = Xlat::new(
    "x_image_format",
    &[h!(XYBitmap = 0), h!(XYPixmap = 1), h!(ZPixmap = 2)],
);

/// XGetImage's formats: a bitmap is no format the server returns (BadValue).
pub static X_GET_IMAGE_FORMAT: Xlat =
    Xlat::new("x_get_image_format", &[h!(XYPixmap = 1), h!(ZPixmap = 2)]);

pub static X_PROPERTY_MODE: Xlat = Xlat::new(
    "x_property_mode",
    &[
        h!(PropModeReplace = 0),
        h!(PropModePrepend = 1),
        h!(PropModeAppend = 2),
    ],
);

pub static X_GRAB_MODE: Xlat = Xlat::new(
    "x_grab_mode",
    &[h!(GrabModeSync = 0), h!(GrabModeAsync = 1)],
);

pub static X_REVERT_TO: Xlat = Xlat::new(
    "x_revert_to",
    &[
        h!(RevertToNone = 0),
        h!(RevertToPointerRoot = 1),
        h!(RevertToParent = 2),
    ],
);

pub static X_ALLOW_EVENTS_MODE: Xlat = Xlat::new(
    "x_allow_events_mode",
    &[
        h!(AsyncPointer = 0),
        h!(SyncPointer = 1),
        h!(ReplayPointer = 2),
        h!(AsyncKeyboard = 3),
        h!(SyncKeyboard = 4),
        h!(ReplayKeyboard = 5),
        h!(AsyncBoth = 6),
        h!(SyncBoth = 7),
    ],
);

pub static X_CLOSE_DOWN_MODE: Xlat = Xlat::new(
    "x_close_down_mode",
    &[
        h!(DestroyAll = 0),
        h!(RetainPermanent = 1),
        h!(RetainTemporary = 2),
    ],
);

pub static X_CIRCULATE_DIRECTION: Xlat = Xlat::new(
    "x_circulate_direction",
    &[h!(RaiseLowest = 0), h!(LowerHighest = 1)],
);

pub static X_SAVE_SET_MODE: Xlat = Xlat::new(
    "x_save_set_mode",
    &[h!(SetModeInsert = 0), h!(SetModeDelete = 1)],
);

pub static X_SCREEN_SAVER_MODE: Xlat = Xlat::new(
    "x_screen_saver_mode",
    &[h!(ScreenSaverReset = 0), h!(ScreenSaverActive = 1)],
);

// --- ncurses (curses.h of ncurses 6, 32-bit chtype)

/// The video attributes of attron and friends; the color pair field (A_COLOR, COLOR_PAIR(n))
/// takes any value. A_CHARTEXT's bits are a character, no attribute: ncurses ors them into the
/// window's attributes as they are.
pub static CURSES_ATTRIBUTES: Xlat = Xlat::new(
    "curses_attributes",
    &[
        h!(A_STANDOUT = 0x10000),
        h!(A_UNDERLINE = 0x20000),
        h!(A_REVERSE = 0x40000),
        h!(A_BLINK = 0x80000),
        h!(A_DIM = 0x100000),
        h!(A_BOLD = 0x200000),
        h!(A_ALTCHARSET = 0x400000),
        h!(A_INVIS = 0x800000),
        h!(A_PROTECT = 0x1000000),
        h!(A_HORIZONTAL = 0x2000000),
        h!(A_LEFT = 0x4000000),
        h!(A_LOW = 0x8000000),
        h!(A_RIGHT = 0x10000000),
        h!(A_TOP = 0x20000000),
        h!(A_VERTICAL = 0x40000000),
        h!(A_ITALIC = 0x80000000),
    ],
)
.free(0xff00); // A_COLOR

// --- libxml2 (libxml/parser.h, HTMLparser.h, xmlsave.h of 2.9.14): the parser ignores options
// it does not know, so a wrong enumeration's value is silently no option at all.

/// xmlParserOption, for the XML parser's xmlRead* and xmlCtxtRead* functions.
pub static XML_PARSER_OPTIONS: Xlat = Xlat::new(
    "xml_parser_options",
    &[
        h!(XML_PARSE_RECOVER = 1 << 0),
        h!(XML_PARSE_NOENT = 1 << 1),
        h!(XML_PARSE_DTDLOAD = 1 << 2),
        h!(XML_PARSE_DTDATTR = 1 << 3),
        h!(XML_PARSE_DTDVALID = 1 << 4),
        h!(XML_PARSE_NOERROR = 1 << 5),
        h!(XML_PARSE_NOWARNING = 1 << 6),
        h!(XML_PARSE_PEDANTIC = 1 << 7),
        h!(XML_PARSE_NOBLANKS = 1 << 8),
        h!(XML_PARSE_SAX1 = 1 << 9),
        h!(XML_PARSE_XINCLUDE = 1 << 10),
        h!(XML_PARSE_NONET = 1 << 11),
        h!(XML_PARSE_NODICT = 1 << 12),
        h!(XML_PARSE_NSCLEAN = 1 << 13),
        h!(XML_PARSE_NOCDATA = 1 << 14),
        h!(XML_PARSE_NOXINCNODE = 1 << 15),
        h!(XML_PARSE_COMPACT = 1 << 16),
        h!(XML_PARSE_OLD10 = 1 << 17),
        h!(XML_PARSE_NOBASEFIX = 1 << 18),
        h!(XML_PARSE_HUGE = 1 << 19),
        h!(XML_PARSE_OLDSAX = 1 << 20),
        h!(XML_PARSE_IGNORE_ENC = 1 << 21),
        h!(XML_PARSE_BIG_LINES = 1 << 22),
    ],
);

/// htmlParserOption, for htmlRead* and htmlCtxtRead*; htmlCtxtUseOptions also takes the XML
/// parser's XML_PARSE_HUGE.
pub static HTML_PARSER_OPTIONS: Xlat = Xlat::new(
    "html_parser_options",
    &[
        h!(HTML_PARSE_RECOVER = 1 << 0),
        h!(HTML_PARSE_NODEFDTD = 1 << 2),
        h!(HTML_PARSE_NOERROR = 1 << 5),
        h!(HTML_PARSE_NOWARNING = 1 << 6),
        h!(HTML_PARSE_PEDANTIC = 1 << 7),
        h!(HTML_PARSE_NOBLANKS = 1 << 8),
        h!(HTML_PARSE_NONET = 1 << 11),
        h!(HTML_PARSE_NOIMPLIED = 1 << 13),
        h!(HTML_PARSE_COMPACT = 1 << 16),
        h!(XML_PARSE_HUGE = 1 << 19),
        h!(HTML_PARSE_IGNORE_ENC = 1 << 21),
    ],
);

/// xmlSaveOption, for the xmlSaveTo* functions.
pub static XML_SAVE_OPTIONS: Xlat = Xlat::new(
    "xml_save_options",
    &[
        h!(XML_SAVE_FORMAT = 1 << 0),
        h!(XML_SAVE_NO_DECL = 1 << 1),
        h!(XML_SAVE_NO_EMPTY = 1 << 2),
        h!(XML_SAVE_NO_XHTML = 1 << 3),
        h!(XML_SAVE_XHTML = 1 << 4),
        h!(XML_SAVE_AS_XML = 1 << 5),
        h!(XML_SAVE_AS_HTML = 1 << 6),
        h!(XML_SAVE_WSNONSIG = 1 << 7),
    ],
);

// --- libpng (png.h of 1.6)

pub static PNG_COLOR_TYPE: Xlat = Xlat::new(
    "png_color_type",
    &[
        h!(PNG_COLOR_TYPE_GRAY = 0),
        h!(PNG_COLOR_TYPE_RGB = 2),
        h!(PNG_COLOR_TYPE_PALETTE = 3),
        h!(PNG_COLOR_TYPE_GRAY_ALPHA = 4),
        h!(PNG_COLOR_TYPE_RGB_ALPHA = 6),
    ],
);

pub static PNG_INTERLACE: Xlat = Xlat::new(
    "png_interlace",
    &[h!(PNG_INTERLACE_NONE = 0), h!(PNG_INTERLACE_ADAM7 = 1)],
);

pub static PNG_COMPRESSION_TYPE: Xlat =
    Xlat::new("png_compression_type", &[h!(PNG_COMPRESSION_TYPE_BASE = 0)]);

/// The filter method: PNG's one, or the one of MNG datastreams.
pub static PNG_FILTER_TYPE: Xlat = Xlat::new(
    "png_filter_type",
    &[
        h!(PNG_FILTER_TYPE_BASE = 0),
        h!(PNG_INTRAPIXEL_DIFFERENCING = 64),
    ],
);

/// png_set_filter's filters: PNG_FILTER_* bits, or one PNG_FILTER_VALUE_* in the low three bits
/// (5 to 7 are no filter: "Unknown row filter for method 0").
pub static PNG_FILTERS: Xlat = Xlat::new(
    "png_filters",
    &[
        h!(PNG_FILTER_NONE = 0x08),
        h!(PNG_FILTER_SUB = 0x10),
        h!(PNG_FILTER_UP = 0x20),
        h!(PNG_FILTER_AVG = 0x40),
        h!(PNG_FILTER_PAETH = 0x80),
    ],
)
.fields(&[Field {
    name: "PNG_FILTER_VALUE",
    mask: 0x07,
    rows: &[
        h!(PNG_FILTER_VALUE_NONE = 0),
        h!(PNG_FILTER_VALUE_SUB = 1),
        h!(PNG_FILTER_VALUE_UP = 2),
        h!(PNG_FILTER_VALUE_AVG = 3),
        h!(PNG_FILTER_VALUE_PAETH = 4),
    ],
}]);

pub static PNG_FILLER: Xlat = Xlat::new(
    "png_filler",
    &[h!(PNG_FILLER_BEFORE = 0), h!(PNG_FILLER_AFTER = 1)],
);

pub static PNG_SRGB_INTENT: Xlat = Xlat::new(
    "png_srgb_intent",
    &[
        h!(PNG_sRGB_INTENT_PERCEPTUAL = 0),
        h!(PNG_sRGB_INTENT_RELATIVE = 1),
        h!(PNG_sRGB_INTENT_SATURATION = 2),
        h!(PNG_sRGB_INTENT_ABSOLUTE = 3),
    ],
);

pub static PNG_RESOLUTION_UNIT: Xlat = Xlat::new(
    "png_resolution_unit",
    &[h!(PNG_RESOLUTION_UNKNOWN = 0), h!(PNG_RESOLUTION_METER = 1)],
);

// --- GLib (glib.h)

pub static G_FILE_TEST: Xlat = Xlat::new(
    "g_file_test",
    &[
        h!(G_FILE_TEST_IS_REGULAR = 1 << 0),
        h!(G_FILE_TEST_IS_SYMLINK = 1 << 1),
        h!(G_FILE_TEST_IS_DIR = 1 << 2),
        h!(G_FILE_TEST_IS_EXECUTABLE = 1 << 3),
        h!(G_FILE_TEST_EXISTS = 1 << 4),
    ],
);
