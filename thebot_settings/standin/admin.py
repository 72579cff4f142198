"""Admin registrations, enough to inspect seeded data by hand."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    Assignment,
    AssignmentSubmission,
    ChatParticipant,
    ChatRoom,
    Lesson,
    Material,
    Message,
    Notification,
    ParentProfile,
    StudentProfile,
    Subject,
    TeacherProfile,
    TutorProfile,
    User,
)


@admin.register(User)
class StandinUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = [*UserAdmin.fieldsets, ("Platform", {"fields": ["role"]})]


@admin.register(StudentProfile, TeacherProfile, TutorProfile, ParentProfile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    raw_id_fields = ["user"]


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["subject", "teacher", "student", "start_time", "status"]
    list_filter = ["status"]
    raw_id_fields = ["teacher", "student", "subject"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "due_date", "status"]
    list_filter = ["status"]
    raw_id_fields = ["author", "subject", "assigned_to"]


@admin.register(AssignmentSubmission)
class AssignmentSubmissionAdmin(admin.ModelAdmin):
    list_display = ["assignment", "student", "status", "score", "submitted_at"]
    raw_id_fields = ["assignment", "student"]


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "material_type", "is_public", "created_at"]
    list_filter = ["material_type", "is_public"]
    raw_id_fields = ["author", "subject", "assigned_to"]


class ChatParticipantInline(admin.TabularInline):
    model = ChatParticipant
    raw_id_fields = ["user"]
    extra = 0


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "room_type", "created_at"]
    inlines = [ChatParticipantInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["room", "sender", "created_at"]
    raw_id_fields = ["room", "sender"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "notification_type", "is_read", "created_at"]
    list_filter = ["notification_type", "is_read"]
    raw_id_fields = ["recipient"]
