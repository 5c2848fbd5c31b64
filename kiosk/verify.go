package kiosk

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/web"
	"github.com/banhao/banhao/printing"
)

// The public check of a printed certificate (电子证照核验): the keys at
// /.well-known/banhao-keys.json, the API GET /api/v1/certificates/verify
// and the page /verify, which a certificate's QR code links to. They live
// here beside the lobby screen, the other public page this package
// serves, and share its page machinery (embedded templates, this server's
// static files, the same content security policy); the page needs no
// script, so it works on any phone that scans the code. The API and the
// page share one limit per address, so that scraping one does not double
// the budget of the other.

// verifyPage renders /verify.
type verifyPage struct {
	ps   *printing.Service
	page *template.Template
}

func newVerifyPage(ps *printing.Service) (*verifyPage, error) {
	t, err := template.ParseFS(assets.FS, "templates/kiosk/verify.html")
	if err != nil {
		return nil, fmt.Errorf("kiosk: parse verify page: %w", err)
	}
	return &verifyPage{ps: ps, page: t}, nil
}

// handleKeys publishes the certificate signing keys' public halves, for
// anyone to verify a certificate's QR code, also offline.
func handleKeys(ps *printing.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		return c.JSON(fiber.Map{"keys": ps.PublicKeys()})
	}
}

// payloadParam reads ?payload=, the QR code's text: the verify link or the
// bare payload.
func payloadParam(c *fiber.Ctx) (string, error) {
	p := strings.TrimSpace(c.Query("payload"))
	if p == "" {
		return "", apperr.Fields(apperr.FieldError{Field: "payload", Message: "请提供证照二维码的内容"})
	}
	return p, nil
}

// handleVerify checks a payload: valid, revoked or expired (200 with the
// status), or a problem when it is forged, malformed or names an unknown
// key. It reveals only what the signed payload says, masked.
func handleVerify(ps *printing.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := payloadParam(c)
		if err != nil {
			return err
		}
		v, err := ps.Verify(c.UserContext(), p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(v)
	}
}

// verifyField is one line of the result.
type verifyField struct{ Name, Value string }

// verifyView is what verify.html shows.
type verifyView struct {
	Payload string
	Checked bool
	// Status is valid, revoked, expired or invalid; Label says it in Chinese.
	Status  string
	Label   string
	Message string
	Fields  []verifyField
}

// invalidMessages explain a payload that does not verify, by code.
var invalidMessages = map[apperr.Code]string{
	printing.CodeForged:     "证照信息与数字签名不符：二维码内容可能被篡改或伪造，不能作为有效证明。",
	printing.CodeMalformed:  "无法识别：这不是本中心签发的电子证照二维码，或内容不完整（可能只复制了一部分）。",
	printing.CodeUnknownKey: "签发密钥未公布：无法确认这份证照由本中心签发，不能作为有效证明。",
}

func (vp *verifyPage) handle() fiber.Handler {
	return func(c *fiber.Ctx) error {
		payload := strings.TrimSpace(c.Query("payload"))
		v := verifyView{Payload: payload}
		status := fiber.StatusOK
		if payload != "" {
			v.Checked = true
			res, err := vp.ps.Verify(c.UserContext(), payload)
			if e, ok := apperr.As(err); ok && invalidMessages[e.Code] != "" {
				v.Status, v.Label, v.Message = "invalid", "伪造或无效", invalidMessages[e.Code]
				status = web.StatusOf(e.Code)
			} else if err != nil {
				return err
			} else {
				v.Status, v.Label = res.Status, res.Label
				v.Fields = resultFields(res)
				switch res.Status {
				case printing.StatusValid:
					v.Message = "数字签名核验通过：这份电子证照由本中心签发，目前有效。"
				case printing.StatusRevoked:
					v.Message = "数字签名真实，但这份电子证照已经注销，不能再作为有效证明。"
				case printing.StatusExpired:
					v.Message = "数字签名真实，但这份电子证照已超过有效期。"
				}
			}
		}
		var buf bytes.Buffer
		if err := vp.page.Execute(&buf, v); err != nil {
			return fmt.Errorf("kiosk: render verify page: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderContentSecurityPolicy, kioskCSP)
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Status(status).Send(buf.Bytes())
	}
}

// resultFields are the lines of a verified certificate, as its payload
// (signed, so trustworthy) states them, masked.
func resultFields(v printing.Verification) []verifyField {
	until := v.ValidTo
	if until == "" {
		until = "长期"
	}
	f := []verifyField{
		{"证照类型", v.Type}, {"证照编号", v.Number}, {"持证人", v.Holder}, {"发证机关", v.Issuer},
		{"发证日期", v.Issued}, {"有效期至", until},
	}
	if !v.RevokedAt.IsZero() {
		f = append(f, verifyField{"注销时间", v.RevokedAt.Format("2006-01-02 15:04")})
	}
	return append(f, verifyField{"签名密钥", v.KeyID})
}
