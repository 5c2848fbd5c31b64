// Package assets holds the files the binary serves or loads, embedded so
// that one binary runs with nothing beside it: the demo catalog, the page
// templates and the static files (CSS, JavaScript, fonts).
package assets

import "embed"

// FS is every embedded asset, addressed by path below this folder
// ("calendar/2026.json", "catalog/demo.json", "templates/...", "static/...",
// "openapi.json").
//
//go:embed calendar catalog static templates openapi.json
var FS embed.FS
