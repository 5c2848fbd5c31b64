package web

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// wantsHTML reports whether an error should be shown as a page: a browser
// asking for a page, not an API client.
func wantsHTML(c *fiber.Ctx) bool {
	p := c.Path()
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/.well-known/") {
		return false
	}
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/static/kiosk.css"></head>
<body><main class="error-page"><h1>{{.Title}}</h1><p>{{.Detail}}</p>
<p class="muted">请求编号：{{.RequestID}}</p>
<p><a class="button" href="/kiosk/">返回首页</a></p></main></body></html>`))

func renderErrorPage(c *fiber.Ctx, p Problem) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return errorPage.Execute(c.Response().BodyWriter(), p)
}
