/* Library objects under the checker: `objects CASE` runs one planted violation (reported, then
 * the checker aborts the process: the call would touch freed memory) or one of the clean
 * controls (valid calls that a careless tracker would take for violations). */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <curses.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Display *open_display(Window *w, GC *gc) {
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "no display\n");
        exit(2);
    }
    *w = XCreateSimpleWindow(d, DefaultRootWindow(d), 0, 0, 40, 20, 0, 0, 0);
    *gc = XCreateGC(d, *w, 0, NULL);
    return d;
}

static char *heap_text(const char *s, size_t n) {
    char *p = malloc(n);
    memcpy(p, s, n);
    return p;
}

/* A screen on /dev/null, so that no terminal is needed. */
static void curses_on_null(void) {
    FILE *out = fopen("/dev/null", "w");
    if (!newterm("xterm", out, stdin)) {
        fprintf(stderr, "no terminal\n");
        exit(2);
    }
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    Window w;
    GC gc;
    if (!strcmp(c, "x11-draw-after-close")) {
        Display *d = open_display(&w, &gc);
        XCloseDisplay(d);
        XDrawPoint(d, w, gc, 1, 1);
    } else if (!strcmp(c, "x11-string-too-long")) {
        Display *d = open_display(&w, &gc);
        XDrawString(d, w, gc, 5, 15, heap_text("hello", 5), 50);
        XCloseDisplay(d);
    } else if (!strcmp(c, "x11-clean")) {
        /* A display closed, another opened (perhaps at the same address), a string drawn with
         * its exact length and no NUL. */
        Display *d = open_display(&w, &gc);
        XCloseDisplay(d);
        d = open_display(&w, &gc);
        XDrawString(d, w, gc, 5, 15, heap_text("hello", 5), 5);
        XFlush(d);
        XCloseDisplay(d);
    } else if (!strcmp(c, "glib-strlcpy-too-long")) {
        char *dest = malloc(8);
        g_strlcpy(dest, "hi", 64);
        free(dest);
    } else if (!strcmp(c, "glib-clean")) {
        char *dest = malloc(8);
        g_strlcpy(dest, "hello", 8);
        g_strlcpy(dest, "a string longer than the buffer", 8); /* truncates */
        g_strlcpy(dest, "", 1);
        free(dest);
    } else if (!strcmp(c, "xml-free-twice")) {
        xmlDocPtr doc = xmlReadMemory("<a/>", 4, "a.xml", NULL, 0);
        xmlFreeDoc(doc);
        xmlFreeDoc(doc);
    } else if (!strcmp(c, "xml-clean")) {
        xmlDocPtr doc = xmlReadMemory("<a><b/></a>", 11, "a.xml", NULL, 0);
        xmlFreeDoc(doc);
        doc = xmlNewDoc(BAD_CAST "1.0"); /* perhaps where the first one was */
        xmlDocSetRootElement(doc, xmlNewNode(NULL, BAD_CAST "root"));
        if (!xmlDocGetRootElement(doc))
            return 1;
        xmlFreeDoc(doc);
        xmlFreeDoc(NULL); /* documented: nothing */
        xmlDocGetRootElement(NULL);
    } else if (!strcmp(c, "curses-move-deleted")) {
        curses_on_null();
        WINDOW *win = newwin(5, 10, 0, 0);
        delwin(win);
        wmove(win, 1, 1);
    } else if (!strcmp(c, "curses-clean")) {
        curses_on_null();
        WINDOW *win = newwin(5, 10, 0, 0);
        delwin(win);
        win = newwin(5, 10, 1, 1); /* perhaps where the first one was */
        wmove(win, 1, 1);
        WINDOW *sub = subwin(win, 2, 2, 2, 2);
        if (delwin(win) != ERR) /* refused: it has a subwindow; win stays alive */
            return 1;
        wmove(win, 2, 2);
        waddstr(win, "x");
        delwin(sub);
        delwin(win);
        wmove(stdscr, 0, 0);
        endwin();
        wrefresh(stdscr); /* curses resumes after endwin */
        endwin();
    } else if (!strcmp(c, "png-after-destroy")) {
        png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_structp copy = png;
        png_destroy_read_struct(&png, NULL, NULL);
        png_set_sig_bytes(copy, 8);
    } else if (!strcmp(c, "png-clean")) {
        png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_destroy_read_struct(&png, NULL, NULL);
        png_destroy_read_struct(&png, NULL, NULL); /* png is NULL now: nothing */
        png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_set_compression_level(png, 5);
        png_destroy_write_struct(&png, NULL);
    } else if (!strcmp(c, "fc-clean")) {
        /* A reference taken: the first destroy only drops it. NULL is the current config. */
        FcConfig *config = FcConfigCreate();
        FcConfigReference(config);
        FcConfigDestroy(config);
        FcConfigGetRescanInterval(config);
        FcConfigDestroy(config);
        FcConfigGetRescanInterval(NULL);
    } else if (!strcmp(c, "xfree-stack")) {
        /* x[0] sits where malloc keeps a chunk's size: zeroed, glibc's abort is deterministic. */
        long x[2] = {0, 0};
        long *volatile p = &x[1];
        XFree(p);
    } else if (!strcmp(c, "glib-free-twice")) {
        char *volatile p = g_strdup("twice");
        g_free(p);
        g_free(p);
    } else if (!strcmp(c, "glib-free-interior")) {
        char *p = g_malloc0(64); /* zeroed: what glibc takes for a chunk size is 0 */
        g_free(p + 16);
    } else if (!strcmp(c, "free-clean")) {
        /* Blocks the libraries allocated, given back to their deallocators; NULL where GLib
         * and fontconfig document it. */
        g_free(NULL);
        g_free(g_strdup("a string"));
        char *r = g_realloc(NULL, 16);
        r = g_realloc(r, 4096);
        g_free(g_realloc(r, 8));
        g_strfreev(g_strsplit("a,b,c", ",", -1));
        FcStrFree(FcStrCopy((const FcChar8 *)"x"));
        FcStrFree(NULL);
    } else if (!strcmp(c, "x11-free-clean")) {
        Display *d = open_display(&w, &gc);
        XFree(XGetAtomName(d, XA_PRIMARY));
        int n = 0;
        XFree(XListDepths(d, DefaultScreen(d), &n));
        XCloseDisplay(d);
    } else if (!strcmp(c, "x11-select-unknown-bits")) {
        Display *d = open_display(&w, &gc);
        XSelectInput(d, w, ExposureMask | (1L << 25));
    } else if (!strcmp(c, "x11-gc-unknown-bits")) {
        Display *d = open_display(&w, &gc);
        XGCValues values = {0};
        XCreateGC(d, w, GCForeground | (1L << 23), &values);
    } else if (!strcmp(c, "x11-masks-clean")) {
        Display *d = open_display(&w, &gc);
        XSelectInput(d, w, ExposureMask | KeyPressMask | StructureNotifyMask | OwnerGrabButtonMask);
        XSelectInput(d, w, NoEventMask);
        XGCValues values = {.function = GXxor, .line_width = 2, .arc_mode = ArcPieSlice};
        GC g = XCreateGC(d, w, GCFunction | GCLineWidth | GCArcMode, &values);
        XChangeGC(d, g, GCArcMode, &values);
        XGetGCValues(d, g, GCFunction | GCLineWidth, &values);
        XSetLineAttributes(d, g, 1, LineOnOffDash, CapRound, JoinBevel);
        XSetFillStyle(d, g, FillOpaqueStippled);
        XSetWindowAttributes attrs = {.background_pixel = 0, .event_mask = ButtonPressMask};
        XChangeWindowAttributes(d, w, CWBackPixel | CWEventMask, &attrs);
        Window child = XCreateWindow(d, w, 0, 0, 4, 4, 0, CopyFromParent, InputOutput,
                                     CopyFromParent, CWBackPixel, &attrs);
        XDestroyWindow(d, child);
        XSync(d, False);
        XCloseDisplay(d);
    } else if (!strcmp(c, "curses-unknown-attribute")) {
        curses_on_null();
        wattron(stdscr, 'x'); /* a character, no attribute */
        endwin();
    } else if (!strcmp(c, "curses-attributes-clean")) {
        curses_on_null();
        start_color();
        wattron(stdscr, A_BOLD | A_UNDERLINE | COLOR_PAIR(1));
        wattroff(stdscr, A_BOLD);
        wattrset(stdscr, A_NORMAL);
        wattr_on(stdscr, A_ITALIC | A_REVERSE, NULL);
        curs_set(0);
        curs_set(1);
        endwin();
    } else if (!strcmp(c, "xml-unknown-option")) {
        xmlFreeDoc(xmlReadMemory("<a/>", 4, "a.xml", NULL, XML_PARSE_NONET | (1 << 23)));
    } else if (!strcmp(c, "html-free-twice")) {
        htmlDocPtr doc = htmlReadMemory("<p>x</p>", 8, "a.html", NULL, HTML_PARSE_NOERROR);
        xmlFreeDoc(doc);
        xmlFreeDoc(doc);
    } else if (!strcmp(c, "html-dump-after-free")) {
        htmlDocPtr doc = htmlReadMemory("<p>x</p>", 8, "a.html", NULL, 0);
        xmlFreeDoc(doc);
        htmlDocDump(stdout, doc);
    } else if (!strcmp(c, "html-clean")) {
        FILE *null = fopen("/dev/null", "w");
        htmlDocPtr doc = htmlReadMemory("<p>x</p>", 8, "a.html", NULL,
                                        HTML_PARSE_NOERROR | HTML_PARSE_NONET | XML_PARSE_HUGE);
        htmlDocDump(null, doc);
        xmlFreeDoc(doc);
        doc = htmlNewDoc(NULL, NULL); /* perhaps where the first one was */
        htmlDocDump(null, doc);
        xmlFreeDoc(doc);
        xmlFreeDoc(xmlReadMemory("<a/>", 4, "a.xml", NULL, XML_PARSE_NOBLANKS | XML_PARSE_BIG_LINES));
        fclose(null);
    } else if (!strcmp(c, "png-unknown-color-type")) {
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        png_set_IHDR(png, info, 1, 1, 8, 5, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
                     PNG_FILTER_TYPE_BASE);
    } else if (!strcmp(c, "png-settings-clean")) {
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        png_set_IHDR(png, info, 1, 1, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_ADAM7,
                     PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_PAETH);
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_VALUE_UP);
        png_set_compression_level(png, -1);
        png_free_default(png, png_malloc(png, 16));
        png_free_default(NULL, NULL);
        png_destroy_write_struct(&png, &info);
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    return 0;
}
