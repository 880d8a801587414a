package main
import (
 _ "github.com/gin-gonic/gin"
 _ "github.com/golang-jwt/jwt/v5"
 _ "github.com/jmoiron/sqlx"
 _ "github.com/lib/pq"
 _ "modernc.org/sqlite"
 _ "github.com/redis/go-redis/v9"
 _ "github.com/pressly/goose/v3"
 _ "golang.org/x/crypto/bcrypt"
 _ "golang.org/x/text/unicode/norm"
 _ "go.yaml.in/yaml/v3"
 _ "github.com/go-jose/go-jose/v4"
 _ "github.com/google/uuid"
)
func main(){}
