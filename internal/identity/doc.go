// Package identity is who is calling and what they may see: citizens, kiosk devices and their ID-card sessions, staff and their roles, couriers, and sessions.
package identity
