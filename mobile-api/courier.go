package mobileapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

const localsCourier = "mobileapi.courier"

// requireCourier admits requests bearing a courier session token.
func requireCourier(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="banhao"`)
			return apperr.New(apperr.Unauthorized, "请先登录")
		}
		sess, st, err := ids.AuthenticateCourier(c.UserContext(), strings.TrimSpace(token))
		if err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="banhao"`)
			return err
		}
		c.Locals(localsCourier, st)
		c.Locals(localsSession, sess)
		c.Locals(web.LocalsActor, "courier:"+st.ID)
		return c.Next()
	}
}

// courierView is a courier as their phone page shows them.
type courierView struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Company  string `json:"company"`
	Center   string `json:"center"`
}

func viewCourier(st identity.Staff) courierView {
	return courierView{ID: st.ID, Username: st.Username, Name: st.Name, Company: st.Company, Center: st.Center}
}

type courierLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// handleCourierLogin logs a courier in with username and password.
func handleCourierLogin(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req courierLoginRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Username == "" || req.Password == "" || len(req.Username) > 64 || len(req.Password) > 128 {
			return apperr.Fields(apperr.FieldError{Field: "username", Message: "请输入用户名和密码"})
		}
		l, err := ids.LoginCourier(c.UserContext(), req.Username, req.Password, origin(c))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"token": l.Token, "expires_at": inChina(l.Session.ExpiresAt), "courier": viewCourier(l.Staff)})
	}
}

func handleCourierMe() fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, _ := c.Locals(localsCourier).(identity.Staff)
		return c.JSON(viewCourier(st))
	}
}

func handleCourierLogout(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sess, _ := c.Locals(localsSession).(identity.Session)
		if err := ids.Logout(c.UserContext(), sess); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
