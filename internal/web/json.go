package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
)

// DecodeJSON decodes the request body into dst, refusing a body that is not
// JSON, has unknown fields, has values of the wrong type or carries more
// than one value. Errors name the offending field.
func DecodeJSON(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return fiber.ErrUnsupportedMediaType
	}
	return decodeStrict(c.Body(), dst)
}

func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.Fields(apperr.FieldError{Field: "body", Message: "请求内容为空"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.Fields(apperr.FieldError{Field: "body", Message: "JSON 之后还有多余内容"})
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return apperr.Fields(apperr.FieldError{Field: field, Message: fmt.Sprintf("类型错误，应为 %s", jsonTypeName(typeErr.Type.Kind().String()))})
	case errors.As(err, &syntaxErr):
		return apperr.Fields(apperr.FieldError{Field: "body", Message: fmt.Sprintf("JSON 格式错误（第 %d 个字节附近）", syntaxErr.Offset)})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Fields(apperr.FieldError{Field: "body", Message: "JSON 不完整"})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Fields(apperr.FieldError{Field: name, Message: "不认识的字段"})
	}
	return apperr.Fields(apperr.FieldError{Field: "body", Message: "JSON 格式错误"})
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "整数"
	case "float32", "float64":
		return "数字"
	case "bool":
		return "true 或 false"
	case "slice", "array":
		return "数组"
	case "struct", "map":
		return "对象"
	}
	return kind
}

// QueryInt reads an optional non-negative integer query parameter; absent
// is 0, anything else that is not a number is an invalid_input error.
func QueryInt(c *fiber.Ctx, name string) (int, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, apperr.Fields(apperr.FieldError{Field: name, Message: "须为非负整数"})
	}
	return n, nil
}
