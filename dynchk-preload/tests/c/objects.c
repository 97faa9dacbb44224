/* Library objects under the checker: `objects CASE` runs one planted violation (reported, then
 * the checker aborts the process: the call would touch freed memory) or one of the clean
 * controls (valid calls that a careless tracker would take for violations). */
#include <X11/Xlib.h>
#include <curses.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
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
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    return 0;
}
