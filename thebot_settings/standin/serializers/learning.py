"""Lessons, assignments and materials.

Relations read as nested objects and write as ``<name>_id`` primary keys; the owner
(teacher or author) is always the requesting user, never part of the body.
"""

from rest_framework import serializers

from ..models import Assignment, Lesson, Material, Subject, User
from .users import UserBriefSerializer


class SubjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = ["id", "name", "color"]
        read_only_fields = fields


class LessonSerializer(serializers.ModelSerializer):
    teacher = UserBriefSerializer(read_only=True)
    student = UserBriefSerializer(read_only=True)
    subject = SubjectSerializer(read_only=True)
    student_id = serializers.PrimaryKeyRelatedField(
        source="student", queryset=User.objects.all(), write_only=True
    )
    subject_id = serializers.PrimaryKeyRelatedField(
        source="subject", queryset=Subject.objects.all(), write_only=True
    )

    class Meta:
        model = Lesson
        fields = [
            "id",
            "teacher",
            "student",
            "student_id",
            "subject",
            "subject_id",
            "start_time",
            "end_time",
            "status",
            "description",
            "meeting_link",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        start = attrs.get("start_time", getattr(self.instance, "start_time", None))
        end = attrs.get("end_time", getattr(self.instance, "end_time", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"end_time": "Must be after start_time."})
        return attrs


class SharedWithClassSerializer(serializers.ModelSerializer):
    """Fields of rows a teacher authors for a subject and shares with students."""

    author = UserBriefSerializer(read_only=True)
    subject = SubjectSerializer(read_only=True)
    subject_id = serializers.PrimaryKeyRelatedField(
        source="subject", queryset=Subject.objects.all(), write_only=True, required=False
    )
    # Write-only: a class can be large, and listing every assignee would bloat each row.
    assigned_to = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.all(), write_only=True, required=False
    )


class AssignmentSerializer(SharedWithClassSerializer):
    class Meta:
        model = Assignment
        fields = [
            "id",
            "title",
            "description",
            "author",
            "subject",
            "subject_id",
            "assigned_to",
            "due_date",
            "status",
            "max_score",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class MaterialSerializer(SharedWithClassSerializer):
    class Meta:
        model = Material
        fields = [
            "id",
            "title",
            "description",
            "content",
            "file_url",
            "material_type",
            "is_public",
            "author",
            "subject",
            "subject_id",
            "assigned_to",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
