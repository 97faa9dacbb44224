//! The colours of dynchk's text output. Text is rendered with these ANSI styles always; it is
//! written through `anstream`, which drops them unless the stream is a terminal that takes colour
//! (and `NO_COLOR` is unset, or `CLICOLOR_FORCE` asks for colour anyway).

use anstyle::{AnsiColor, Style};

/// A violation count.
pub const BAD: Style = AnsiColor::Red.on_default().bold();
/// "no violations".
pub const GOOD: Style = AnsiColor::Green.on_default().bold();
/// A group's interface, parameter and check.
pub const HEAD: Style = Style::new().bold();
/// A call site's location.
pub const SITE: Style = AnsiColor::Cyan.on_default();
/// "warning", "note".
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
