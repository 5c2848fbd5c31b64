// Package assets holds the files the binary serves or loads, embedded so
// that one binary runs with nothing beside it: the demo catalog, the page
// templates, the static files (CSS, JavaScript) and the fonts that
// certificates are printed in (fonts/, Noto Serif SC, OFL; see its README).
package assets

import "embed"

// FS is every embedded asset, addressed by path below this folder
// ("calendar/2026.json", "catalog/demo.json", "templates/...", "static/...",
// "fonts/NotoSerifSC-Regular.ttf", "openapi.json").
//
//go:embed calendar catalog fonts static templates openapi.json
var FS embed.FS
