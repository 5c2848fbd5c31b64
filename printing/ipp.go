package printing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/OpenPrinting/goipp"

	"github.com/banhao/banhao/internal/apperr"
)

// CodePrinter: the window's printer could not print; the job stays
// retriable.
const CodePrinter apperr.Code = "printer_unavailable"

// IPPPrinter prints PDFs on a network printer over IPP (Print-Job), as
// every office printer of the last twenty years understands.
type IPPPrinter struct {
	// URI is the printer's address, "ipp://host:631/ipp/print" (or
	// "ipps://", or "http(s)://" directly).
	URI    string
	client *http.Client
	reqID  atomic.Uint32
}

// NewIPPPrinter returns a printer at uri; client nil means a client with
// a 60-second timeout.
func NewIPPPrinter(uri string, client *http.Client) (*IPPPrinter, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || (u.Scheme != "ipp" && u.Scheme != "ipps" && u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("printing: printer address %q is not an ipp://, ipps://, http:// or https:// URL", uri)
	}
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	return &IPPPrinter{URI: uri, client: client}, nil
}

// httpURL is where IPP travels: ipp:// is HTTP on port 631 by default,
// ipps:// HTTPS on 443.
func (p *IPPPrinter) httpURL() string {
	u, _ := url.Parse(p.URI)
	switch u.Scheme {
	case "ipp":
		u.Scheme = "http"
		if u.Port() == "" {
			u.Host += ":631"
		}
	case "ipps":
		u.Scheme = "https"
	}
	return u.String()
}

// Print sends one PDF as a Print-Job and returns the printer's job id.
// A printer that cannot be reached, answers an HTTP error or an IPP error
// status gives CodePrinter (the caller keeps the job retriable).
func (p *IPPPrinter) Print(ctx context.Context, jobName string, pdf []byte) (int, error) {
	req := goipp.NewRequest(goipp.DefaultVersion, goipp.OpPrintJob, p.reqID.Add(1))
	req.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
	req.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("zh-cn")))
	req.Operation.Add(goipp.MakeAttribute("printer-uri", goipp.TagURI, goipp.String(p.URI)))
	req.Operation.Add(goipp.MakeAttribute("requesting-user-name", goipp.TagName, goipp.String("banhao")))
	req.Operation.Add(goipp.MakeAttribute("job-name", goipp.TagName, goipp.String(jobName)))
	req.Operation.Add(goipp.MakeAttribute("document-format", goipp.TagMimeType, goipp.String("application/pdf")))
	head, err := req.EncodeBytes()
	if err != nil {
		return 0, fmt.Errorf("printing: encode IPP request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.httpURL(), io.MultiReader(bytes.NewReader(head), bytes.NewReader(pdf)))
	if err != nil {
		return 0, fmt.Errorf("printing: IPP request: %w", err)
	}
	hr.Header.Set("Content-Type", goipp.ContentType)
	hr.Header.Set("Accept", goipp.ContentType)
	res, err := p.client.Do(hr)
	if err != nil {
		return 0, apperr.Wrap(CodePrinter, "窗口打印机无法连接，请检查打印机后重试", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return 0, apperr.Wrap(CodePrinter, "窗口打印机拒绝了打印任务，请检查打印机后重试", fmt.Errorf("HTTP %s", res.Status))
	}
	var rsp goipp.Message
	if err := rsp.Decode(io.LimitReader(res.Body, 1<<20)); err != nil {
		return 0, apperr.Wrap(CodePrinter, "窗口打印机的应答无法识别", err)
	}
	if st := goipp.Status(rsp.Code); st >= 0x0100 {
		return 0, apperr.Wrap(CodePrinter, "窗口打印机报告错误（"+strings.ReplaceAll(st.String(), "-", " ")+"），请检查纸张和墨粉后重试",
			fmt.Errorf("IPP status %s", st))
	}
	for _, a := range rsp.Job {
		if a.Name == "job-id" && len(a.Values) > 0 {
			if v, ok := a.Values[0].V.(goipp.Integer); ok {
				return int(v), nil
			}
		}
	}
	return 0, nil
}
