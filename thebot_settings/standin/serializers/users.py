"""Users, role profiles, and the login request body."""

from rest_framework import serializers

from ..models import ParentProfile, StudentProfile, TeacherProfile, TutorProfile, User


class UserSerializer(serializers.ModelSerializer):
    """The user as login and the profile endpoint return it."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role"]
        read_only_fields = fields


class UserBriefSerializer(serializers.ModelSerializer):
    """A user nested inside another object: enough to show a name."""

    class Meta:
        model = User
        fields = ["id", "first_name", "last_name", "role"]
        read_only_fields = fields


class StudentProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = StudentProfile
        fields = ["id", "grade", "goal", "progress_percentage", "tutor", "parent", "created_at"]


class TeacherProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = TeacherProfile
        fields = ["id", "bio", "experience_years", "created_at"]


class TutorProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = TutorProfile
        fields = ["id", "specialization", "experience_years", "bio", "created_at"]


class ParentProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = ParentProfile
        fields = ["id", "phone", "created_at"]


PROFILE_SERIALIZERS: dict[type, type[serializers.ModelSerializer]] = {
    StudentProfile: StudentProfileSerializer,
    TeacherProfile: TeacherProfileSerializer,
    TutorProfile: TutorProfileSerializer,
    ParentProfile: ParentProfileSerializer,
}


class LoginSerializer(serializers.Serializer):
    """``{"email" or "username", "password"}``, as THE_BOT's login accepts it."""

    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    username = serializers.CharField(required=False, allow_blank=True, max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=4096)

    def validate(self, attrs: dict) -> dict:
        if not (attrs.get("email") or attrs.get("username")):
            raise serializers.ValidationError("Email or username is required.")
        return attrs
